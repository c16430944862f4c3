"""The overview: the period's money, members, funnel and sources, kept fast by monthly rollups."""
