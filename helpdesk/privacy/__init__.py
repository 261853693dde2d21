"""Data protection of the desk: how long customer data is kept, and a customer's rights over it.

- ``retention``: the retention periods of ``config/privacy.yml`` (``HELPDESK_PRIVACY_FILE``);
- ``purge``: ``helpdesk purge`` deletes what is older than its period, in batches;
- ``erasure``: erase or export everything of one customer (by contact address or ticket),
  in the desk's tables and in Rasa's tracker store;
- ``tracker``: the web service's access to Rasa's SQL tracker store (table ``events``);
- ``audit``: the log of erasures, exports and purges (who, when, which selector, how many rows);
- ``masking``: e-mail addresses and phone-like numbers masked in stored texts and in logs.
"""
