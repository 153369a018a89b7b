"""The baseline: a bare Flask app with one endpoint, served like Shuren.

Every benchmark measures this under the same gunicorn settings in the same
run and reports Shuren's throughput as a ratio to it, because absolute
numbers on a shared machine vary by tens of percent from run to run.
"""

from flask import Flask

app = Flask(__name__)


@app.get("/hello")
def hello() -> str:
    return "hello"
