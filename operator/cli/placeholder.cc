// Placeholder; delete once the CLI has a real source.
