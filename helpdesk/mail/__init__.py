"""The e-mail channel: a support mailbox read over IMAP, answered by SMTP.

One module per concern: ``config`` (settings), ``parsing`` (a raw mail to sanitised text,
headers and attachments), ``loop`` (RFC 3834 loop and abuse protection), ``threading``
(which ticket a reply belongs to), ``replies`` (the mails the desk writes), ``attachments``
(safe storage and download), ``store`` (the mail tables), ``intake`` (what happens to one
inbound mail), ``mailbox`` (IMAP polling and IDLE), ``smtp_inbound`` (the optional SMTP endpoint),
``worker`` (the ``helpdesk mail`` process), ``pages`` (reply by mail and attachment downloads in the inbox).
"""
