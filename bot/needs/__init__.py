"""A need's life, in one place: created, classified, corrected, moved through its statuses,
merged, linked to the plan's projects, and erased.

``actions`` holds one function per change; each writes the row, its history event, its audit
entry and the messages to the resident together. The conversation, the staff pages, surveys
and the CLI call those functions; none of them builds a history row by hand.
"""
