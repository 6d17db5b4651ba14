"""HTTP/1.1 for the web server: ``protocol`` (pure request parsing and response building)
and ``files`` (resolving targets inside the served root, listings, the file cache)."""
