"""Campaigns: the prompt copy, suggested amounts, goal and window readers see."""
