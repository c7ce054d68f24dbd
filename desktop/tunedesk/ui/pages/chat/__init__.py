"""Chat page: one or two chat panes, each with its model in a chat session thread."""
