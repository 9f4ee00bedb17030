# The app image used by docker-compose.yml (the Neo4j server runs in its own container).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY interestgraph ./interestgraph
RUN pip install --no-cache-dir .
ENV HF_HUB_OFFLINE=1
ENTRYPOINT ["interestgraph"]
CMD ["pipeline"]
