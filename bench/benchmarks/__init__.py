"""One module per area; each registers its benchmarks with @benchmark."""
