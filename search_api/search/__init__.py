"""Knowledge search: embedding models, the FAISS index, scoring and the answerable decision."""
