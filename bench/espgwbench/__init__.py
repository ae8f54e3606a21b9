"""The espgw benchmark harness behind bench/run.py, one module a concern.
run.py's docstring says what the benchmark measures and how."""
