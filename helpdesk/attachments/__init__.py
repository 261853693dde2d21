"""Files customers attach in the web chat: screenshots (PNG, JPEG, WebP) and PDFs.

``content`` checks what was sent by its bytes and re-encodes images; ``clamd`` asks the
operator's ClamAV daemon; ``store`` keeps the files under random names and their rows, linked
to the conversation and to its ticket; ``api`` is the chat's upload and the workspace's view.
"""
