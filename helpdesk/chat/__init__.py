"""Customer web chat: the page at ``/chat`` and its live-takeover API.

``router`` serves the page (which talks to Rasa's socket.io channel from the
browser), its static files and ``/chat/embed.js``. After a handoff the page
uses ``/chat/api/conversations/{session_id}`` for the ticket state and the live
messages between customer and agent; the session id is the capability.
"""
