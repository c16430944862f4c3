"""Email through the outbox: rows written with the change, rendered and sent by `flask outbox`.

outbox.py enqueues, triggers.py decides which emails a change owes, render.py turns a row into
a message, sender.py claims due rows and delivers them (transport.py: SMTP or the log).
"""
