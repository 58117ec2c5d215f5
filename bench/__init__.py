"""`make bench`: the service against the bare engine, with growth, size and trail figures."""
