"""What each page shows, a section at a time: the pages in `app_pages/` put these together."""
