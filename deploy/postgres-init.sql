-- The tracker store's own database next to the handoffs' (compose.yml's postgres, first start).
CREATE DATABASE rasa OWNER helpdesk;
