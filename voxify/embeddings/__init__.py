"""Speaker embeddings (resemblyzer) and the Chroma vector index that holds them."""
