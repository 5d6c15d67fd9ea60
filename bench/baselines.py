"""`make bench-quick`: the benchmark at its quick size, one million events (``bench.run``).

python -m bench.baselines [bench.run options]   # = python -m bench.run --size 1M
"""

import sys

from bench.run import main

if __name__ == "__main__":
    main(["--size", "1M", *sys.argv[1:]])
