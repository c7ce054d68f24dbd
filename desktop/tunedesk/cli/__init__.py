"""`tunedesk` from a terminal: the same core as the GUI, one module per subcommand."""
