"""The knowledge base: article parsing and validation, lint, rendering, article pages."""
