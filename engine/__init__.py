"""Zhunru's framework-free core: diagrams, workflow runtime, persistence, rules and use cases."""
