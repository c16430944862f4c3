"""Members for staff: the filtered list, search, one member's detail, and the CSV exports."""
