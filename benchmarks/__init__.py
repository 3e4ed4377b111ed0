"""ecr-archiver benchmarks: ``python -m benchmarks.run --quick|--full`` (``make bench``)."""
