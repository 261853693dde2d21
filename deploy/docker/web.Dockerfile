# The web service (search_api + helpdesk): Python 3.11. Build from the repository root:
#   docker build -f deploy/docker/web.Dockerfile -t helpdesk-web .
# The knowledge base is indexed into the image (/srv/index); replicas read it, and the
# embedding models ship inside their PyPI packages, so nothing is downloaded at run time.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 \
    HELPDESK_INDEX_DIR=/srv/index HELPDESK_ARTICLES_DIR=/srv/app/kb/articles
WORKDIR /srv/app
COPY requirements/search-api.lock requirements/
RUN pip install --no-cache-dir -r requirements/search-api.lock
COPY pyproject.toml README.md ./
COPY search_api search_api
COPY helpdesk helpdesk
COPY config config
COPY kb kb
RUN pip install --no-cache-dir --no-deps . && helpdesk build
RUN useradd --system helpdesk
USER helpdesk
EXPOSE 8000
CMD ["uvicorn", "--factory", "helpdesk.app:create_app", "--host", "0.0.0.0", "--port", "8000"]
