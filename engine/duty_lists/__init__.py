"""清单与预检: the townships' duty lists, their files and forms, and the pre-check."""
