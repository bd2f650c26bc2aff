# Scrapy settings for the crawlers project: polite and safe by default.
#
# https://docs.scrapy.org/en/latest/topics/settings.html
# listening/ingest/crawl.py overrides a few per crawl (USER_AGENT from the config, the
# source's per-domain concurrency); tests turn the delays off.

from listening.settings import settings

BOT_NAME = "listening"

SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

ADDONS = {}

# Identify ourselves with a contact URL (replaced by the config's `user_agent`).
USER_AGENT = "ListeningCentre/0.1 (+https://example.com/listening-centre)"

# robots.txt is obeyed for html sources (HtmlSpider.custom_settings); feeds and APIs
# are published for machines and their robots.txt often disallows the API paths.
ROBOTSTXT_OBEY = False

# At most two requests at a time per site (a source's `concurrency`), about 1 s apart,
# slowed further by AutoThrottle when the server answers slowly.
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
DOWNLOAD_DELAY_JITTER = 0.5  # ±50%
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# Bounded work per response: huge pages and slow servers fail that request, not the crawl.
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
REDIRECT_MAX_TIMES = 5
# A source's crawl stops after this long whatever happens (recorded as "stopped"),
# before the scheduler's crawl_timeout_minutes (20) would kill it.
CLOSESPIDER_TIMEOUT = 900

# Retries with exponential backoff (crawlers.middlewares.BackoffMiddleware); Retry-After honoured.
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
RETRY_BACKOFF_BASE = 2.0  # seconds before the first retry, doubled for each further one
RETRY_BACKOFF_MAX = 60.0

# No cookies: we read public pages and APIs, never sessions.
COOKIES_ENABLED = False

# Scrapy 2.19 opens a telnet console and a local code-execution control server by default.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

# Only http(s): Scrapy's file, data, ftp and s3 handlers are off, and ConfinedMiddleware
# refuses any other scheme and private, loopback and link-local addresses with a reason.
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}

DOWNLOADER_MIDDLEWARES = {
    # First of all: every request (redirects included) is http(s) to a public address.
    "crawlers.middlewares.ConfinedMiddleware": 40,
    # Scrapy's robots.txt check lets a third concurrent request through unchecked (2.19).
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawlers.middlewares.SharedRobotsTxtMiddleware": 100,
    # Conditional GET from the source's stored ETag / Last-Modified.
    "crawlers.middlewares.ConditionalGetMiddleware": 560,
    # Waits before a retried request is sent (runs before the download slot is taken).
    "crawlers.middlewares.BackoffMiddleware": 50,
    # Reads Retry-After before RetryMiddleware (550) copies the request.
    "crawlers.middlewares.RetryAfterMiddleware": 555,
    # Decompression over DOWNLOAD_MAXSIZE (a gzip bomb) is too_large with its sizes, not a failed download.
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawlers.middlewares.BoundedDecompressionMiddleware": 590,
}

EXTENSIONS = {
    # Progress for `listening crawl`; off unless LISTENING_PROGRESS is set.
    "crawlers.extensions.ProgressReporter": 500,
}

# Every item goes through listening.ingest.pipeline.Pipeline into the store: in the parent
# process when `listening crawl` started us (HandOff), else here (Store). One switches on.
ITEM_PIPELINES = {
    "crawlers.pipelines.HandOffPipeline": 300,
    "crawlers.pipelines.StorePipeline": 310,
}

# Several machines share each source's crawl when REDIS_URL is set (docs/scaling.md): one
# request queue and one seen-set per source in Redis (scrapy-redis, crawlers/scheduler.py).
REDIS_URL = settings().redis_url
if REDIS_URL:
    SCHEDULER = "crawlers.redis_queue.SharedScheduler"
    DUPEFILTER_CLASS = "scrapy_redis.dupefilter.RFPDupeFilter"
# Seconds a worker with nothing to do waits for busy workers' links before it stops anyway.
SHARED_QUEUE_MAX_IDLE = 120

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
