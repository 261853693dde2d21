"""Examples that run beside the product: stand-ins for a company's own systems."""
