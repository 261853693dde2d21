"""Customer web chat: the page at ``/chat`` and its live-takeover API.

``router`` serves the page (which talks to Rasa's socket.io channel from the
browser), its static files and ``/chat/embed.js``. After a handoff the page
uses ``/chat/api/live/{key}`` for the ticket state and the live messages
between customer and agent; the key is its own random capability, bound to the
ticket and void once the ticket is closed (never Rasa's sender id).
"""
