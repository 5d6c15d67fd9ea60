"""The dashboard: a sign-in page and the analytics as charts and tables, served from the bundle
that `web/` builds into `assets/`."""
