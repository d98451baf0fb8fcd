"""Stage `load`: precedence across batches and rounds, flags, and the core tables."""
