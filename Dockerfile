FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY listening ./listening
COPY crawlers ./crawlers
COPY app.py scheduler.py ./
COPY app_pages ./app_pages
COPY demo ./demo
RUN pip install --no-cache-dir -e .
RUN useradd --create-home listening
USER listening
EXPOSE 8501
