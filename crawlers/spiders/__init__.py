"""One spider per source kind; each reads its source's configuration from spider arguments."""
