"""The BPM core: diagrams, packages, forms, runtime and the commands every procedure shares.

It imports no domain: what a domain adds to a process it registers in the process table
(`processes`), the named checks of forms (`schema_forms`) and the operations of service
tasks (`operations`)."""
