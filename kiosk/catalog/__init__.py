"""The service catalogue: items, the search index, browsing, click counts and guides."""
