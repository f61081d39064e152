"""cxbot's benchmarks: each module runs alone (``python bench/NAME.py``) and gives ``python -m bench`` its rows."""
