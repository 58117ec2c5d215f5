"""问责: cases, fault tolerance (容错纠错) and clearance (澄清正名)."""
