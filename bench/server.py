"""The benchmarked server: the app under waitress, as `make run` serves it."""

import argparse
import logging

import waitress

from webapp import create_app


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--instance", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    # Warnings only: a line per request would be written while the requests are timed.
    app = create_app({"DATABASE_URL": args.database_url, "LOG_LEVEL": "WARNING"},
                     instance_path=args.instance)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    waitress.serve(app, host="127.0.0.1", port=args.port, threads=args.threads, _quiet=True)


if __name__ == "__main__":
    main()
