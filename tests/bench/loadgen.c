/*
 * loadgen.c: the benchmark's load generator. Holds N mutual-TLS
 * connections to the contractor API and submits pre-signed wage sheets
 * (POST /v1/sheets, HTTP/1.1 keep-alive), either as fast as the answers
 * return (closed loop) or at a fixed rate (open loop, -r), and writes one
 * line per sheet: what the daemon answered and when.
 *
 *   loadgen -a HOST:PORT -c CERT -k KEY -C CA -i INDEX -o OUT
 *           [-n CONNS] [-r SHEETS_PER_S] [-T SECONDS] [-D DELAY] [-l LABEL]
 *
 * INDEX has one sheet a line, tab-separated: FILE (absolute, or relative
 * to INDEX's directory) MSGID NLINES [anything]. OUT gets, per sheet sent:
 *   MSGID NLINES HTTP_STATUS GRPSTS REFUSED_LINES PAID_LINES SCHED_US SENT_US DONE_US
 * (times in microseconds of the real-time clock, so that two load
 * generators of one scenario can be compared). PAID_LINES is what the
 * answer says was paid: all lines for ACSC, the lines not listed as
 * refused for PART, none otherwise. The run script counts a line only if
 * the ledger has it too.
 *
 * Latency is from the moment a sheet was due (open loop: start + i/rate,
 * so a slow answer delays no measurement; closed loop: when it was sent)
 * to the last byte of the answer. -T stops starting new sheets after that
 * many seconds; sheets under way are still waited for. -D waits before the
 * first sheet. Sheet files are mapped and handed to the TLS layer without a
 * copy, so the generator's own cost stays small: it shares the machine with
 * the daemon and PostgreSQL, and prints its CPU time for the report.
 *
 * A test tool: exit 0 when every sheet got an answer (whatever it said),
 * 1 when some did not, 2 on a usage or set-up error.
 */
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#define HEADER_MAX	(64 * 1024)
/* Bodies larger than this wait for "100 Continue", as curl does, so that a
 * daemon refusing them (413) can say so before megabytes are sent. */
#define EXPECT_ABOVE	(1024 * 1024)
#define READ_TIMEOUT_S	600

struct job {
	char	*path;		/* owned */
	char	 msg_id[40];
	int	 nlines;
	int	 status;	/* HTTP status; 0 not answered; -1 connection failed */
	char	 grpsts[8];
	int	 refused;
	int	 paid;
	int64_t	 sched_us, sent_us, done_us;
	bool	 sent;
};

struct conn {
	int			 id;
	struct bufferevent	*bev;		/* owned; NULL while down */
	bool			 up;
	int			 job;		/* in flight, or -1 */
	size_t			 hdr_len;	/* of the answer's head, 0 until read */
	size_t			 body_len;
	int			 status;	/* of the answer being read */
	bool			 close_after;
	void			*body;		/* mapped, held back for 100-continue */
	size_t			 body_size;
};

static struct {
	struct event_base	*base;
	SSL_CTX			*ctx;
	struct sockaddr_in	 addr;
	struct conn		*conns;
	int			 nconns;
	struct job		*jobs;
	int			 njobs;
	int			 next;		/* next job to send */
	int			 due;		/* jobs due so far */
	int			 busy;
	double			 rate;
	double			 duration;
	int64_t			 start_us;
	bool			 stopped;	/* -T reached: no new sheets */
	struct event		*tick;
	const char		*label;
	int			 failures;
} g;

static void	conn_open(struct conn *);
static void	dispatch(void);

static void
fatal(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void
fatal(const char *fmt, ...)
{
	va_list	ap;

	fputs("loadgen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static int64_t
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
load_index(const char *index)
{
	FILE	*f;
	char	 line[1024], dir[1024], *slash, *file, *msg, *n;
	size_t	 cap = 0;

	snprintf(dir, sizeof(dir), "%s", index);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	else
		strcpy(dir, ".");
	if ((f = fopen(index, "r")) == NULL)
		fatal("could not open \"%s\": %s", index, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if ((file = strtok(line, "\t")) == NULL ||
		    (msg = strtok(NULL, "\t")) == NULL ||
		    (n = strtok(NULL, "\t")) == NULL)
			continue;
		if ((size_t)g.njobs == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((g.jobs = realloc(g.jobs, cap * sizeof(*g.jobs))) ==
			    NULL)
				fatal("out of memory");
		}
		memset(&g.jobs[g.njobs], 0, sizeof(g.jobs[0]));
		if (asprintf(&g.jobs[g.njobs].path, "%s%s%s", file[0] == '/' ?
		    "" : dir, file[0] == '/' ? "" : "/", file) == -1)
			fatal("out of memory");
		snprintf(g.jobs[g.njobs].msg_id, sizeof(g.jobs[0].msg_id), "%s",
		    msg);
		g.jobs[g.njobs].nlines = atoi(n);
		g.njobs++;
	}
	fclose(f);
	if (g.njobs == 0)
		fatal("\"%s\" lists no sheets", index);
}

static void
unmap_cb(const void *data, size_t len, void *extra)
{
	(void)extra;
	munmap((void *)(uintptr_t)data, len);
}

/* Sends job j on c: the head, then the mapped file by reference. */
static int
send_job(struct conn *c, int j)
{
	struct job	*job = &g.jobs[j];
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	struct stat	 st;
	void		*map;
	int		 fd;

	if ((fd = open(job->path, O_RDONLY)) == -1 || fstat(fd, &st) == -1) {
		fprintf(stderr, "loadgen: %s: %s\n", job->path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		fprintf(stderr, "loadgen: mmap %s: %s\n", job->path,
		    strerror(errno));
		return -1;
	}
	evbuffer_add_printf(out, "POST /v1/sheets HTTP/1.1\r\nHost: localhost\r\n"
	    "Content-Type: application/xml\r\nContent-Length: %lld\r\n%s\r\n",
	    (long long)st.st_size, st.st_size > EXPECT_ABOVE ?
	    "Expect: 100-continue\r\n" : "");
	if (st.st_size > EXPECT_ABOVE) {
		c->body = map;
		c->body_size = (size_t)st.st_size;
	} else if (evbuffer_add_reference(out, map, (size_t)st.st_size,
	    unmap_cb, NULL) == -1) {
		munmap(map, (size_t)st.st_size);
		return -1;
	}
	c->job = j;
	c->hdr_len = 0;
	c->body_len = 0;
	c->close_after = false;
	job->sent = true;
	job->sent_us = now_us();
	if (g.rate <= 0)
		job->sched_us = job->sent_us;
	g.busy++;
	return 0;
}

static bool
finished(void)
{
	int	limit = g.stopped ? g.next : g.njobs;

	return g.busy == 0 && g.next >= limit;
}

static void
check_done(void)
{
	if (finished())
		event_base_loopexit(g.base, NULL);
}

static void
dispatch(void)
{
	int	i;

	if (g.duration > 0 && !g.stopped &&
	    now_us() - g.start_us >= (int64_t)(g.duration * 1e6))
		g.stopped = true;
	for (i = 0; i < g.nconns && !g.stopped; i++) {
		struct conn	*c = &g.conns[i];

		if (g.next >= g.due || g.next >= g.njobs)
			break;
		if (!c->up || c->job != -1)
			continue;
		if (send_job(c, g.next) == -1) {
			g.jobs[g.next].status = -1;
			g.jobs[g.next].sent = true;
			g.failures++;
		}
		g.next++;
	}
	check_done();
}

static void
job_done(struct conn *c, int status, const char *body, size_t len)
{
	struct job	*job = &g.jobs[c->job];
	const char	*p, *end = body + len;
	static const char rj[] = "<TxSts>RJCT</TxSts>";

	job->done_us = now_us();
	job->status = status;
	if (c->body != NULL) {		/* refused before the body was asked for */
		munmap(c->body, c->body_size);
		c->body = NULL;
	}
	if (body != NULL && (p = memmem(body, len, "<GrpSts>", 8)) != NULL &&
	    p + 12 <= end)
		memcpy(job->grpsts, p + 8, 4);
	else
		strcpy(job->grpsts, "-");
	for (p = body; p != NULL && p < end &&
	    (p = memmem(p, (size_t)(end - p), rj, sizeof(rj) - 1)) != NULL;
	    p += sizeof(rj) - 1)
		job->refused++;
	if (status == 200 && (strcmp(job->grpsts, "ACSC") == 0 ||
	    strcmp(job->grpsts, "PART") == 0))
		job->paid = job->nlines - job->refused;
	if (status != 200)
		g.failures += status <= 0;
	c->job = -1;
	g.busy--;
}

/* Reads the answer's head; -1 if it is not HTTP. */
static int
parse_head(struct conn *c, struct evbuffer *in, int *status)
{
	struct evbuffer_ptr	 pos;
	char			*head, *cl, *conn;
	size_t			 n;

	pos = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (pos.pos < 0)
		return evbuffer_get_length(in) > HEADER_MAX ? -1 : 0;
	n = (size_t)pos.pos + 4;
	if ((head = malloc(n + 1)) == NULL)
		fatal("out of memory");
	evbuffer_copyout(in, head, n);
	head[n] = '\0';
	if (strncmp(head, "HTTP/1.", 7) != 0 || strlen(head) < 12) {
		free(head);
		return -1;
	}
	*status = atoi(head + 9);
	for (cl = head; *cl; cl++)
		*cl = (char)(*cl >= 'A' && *cl <= 'Z' ? *cl + 32 : *cl);
	c->body_len = (cl = strstr(head, "\r\ncontent-length:")) != NULL ?
	    strtoull(cl + 17, NULL, 10) : 0;
	c->close_after = (conn = strstr(head, "\r\nconnection:")) != NULL &&
	    strstr(conn, "close") != NULL &&
	    strstr(conn, "close") < strstr(conn + 2, "\r\n");
	c->hdr_len = n;
	free(head);
	return 1;
}

/* Sends the body held back for "100 Continue". */
static void
send_held_body(struct conn *c)
{
	if (c->body == NULL)
		return;
	if (evbuffer_add_reference(bufferevent_get_output(c->bev), c->body,
	    c->body_size, unmap_cb, NULL) == -1)
		munmap(c->body, c->body_size);
	c->body = NULL;
}

/* Completes the job in flight from what is in the input buffer, if a
 * whole answer is there (the connection is going away). */
static void
answer_from_input(struct conn *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	unsigned char	*body;
	int		 status = 0;

	if (c->hdr_len == 0) {
		if (parse_head(c, in, &status) != 1)
			return;
		c->status = status;
	}
	if (evbuffer_get_length(in) < c->hdr_len + c->body_len)
		return;
	evbuffer_drain(in, c->hdr_len);
	body = evbuffer_pullup(in, (ev_ssize_t)c->body_len);
	job_done(c, c->status, (const char *)body, c->body_len);
	evbuffer_drain(in, c->body_len);
	c->hdr_len = 0;
}

static void
conn_reset(struct conn *c)
{
	if (c->body != NULL)
		munmap(c->body, c->body_size);
	c->body = NULL;
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	c->bev = NULL;
	c->up = false;
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	unsigned char	*body;
	int		 status = 0, rc;

	while (c->job != -1) {
		if (c->hdr_len == 0) {
			if ((rc = parse_head(c, in, &status)) == 0)
				return;
			if (rc == -1)
				goto broken;
			c->status = status;
			if (status == 100) {
				/* go on: the body, then the real answer */
				evbuffer_drain(in, c->hdr_len);
				c->hdr_len = 0;
				send_held_body(c);
				continue;
			}
		}
		if (evbuffer_get_length(in) < c->hdr_len + c->body_len)
			return;
		status = c->status;
		evbuffer_drain(in, c->hdr_len);
		body = evbuffer_pullup(in, (ev_ssize_t)c->body_len);
		job_done(c, status, (const char *)body, c->body_len);
		evbuffer_drain(in, c->body_len);
		c->hdr_len = 0;
		if (c->close_after) {
			conn_reset(c);
			if (!finished())
				conn_open(c);
			check_done();
			return;
		}
	}
	dispatch();
	return;
broken:
	fprintf(stderr, "loadgen: connection %d: not an HTTP answer\n", c->id);
	job_done(c, -1, NULL, 0);
	conn_reset(c);
	conn_open(c);
	dispatch();
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;
	unsigned long	 e;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		c->up = true;
		dispatch();
		return;
	}
	/* a daemon that refuses early (413) answers, then closes while we
	 * still write: the answer may be waiting in the input buffer */
	if (c->job != -1 && c->bev != NULL &&
	    evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		answer_from_input(c);
	if (c->job != -1) {
		e = bufferevent_get_openssl_error(c->bev);
		fprintf(stderr, "loadgen: connection %d lost during %s (%s%s)\n",
		    c->id, g.jobs[c->job].msg_id,
		    what & BEV_EVENT_EOF ? "closed by the daemon" :
		    what & BEV_EVENT_TIMEOUT ? "timeout" : "error",
		    e ? ", TLS error" : "");
		job_done(c, -1, NULL, 0);
	} else if (!c->up) {
		fprintf(stderr, "loadgen: connection %d could not be made\n",
		    c->id);
	}
	conn_reset(c);
	if (!finished())
		conn_open(c);
	check_done();
}

static void
conn_open(struct conn *c)
{
	SSL		*ssl;
	struct timeval	 tv = { READ_TIMEOUT_S, 0 };
	int		 one = 1;

	if ((ssl = SSL_new(g.ctx)) == NULL)
		fatal("SSL_new failed");
	c->bev = bufferevent_openssl_socket_new(g.base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		fatal("could not make a TLS bufferevent");
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, read_cb, NULL, event_cb, c);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->job = -1;
	c->hdr_len = 0;
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&g.addr,
	    sizeof(g.addr)) == -1)
		fatal("could not connect: %s", strerror(errno));
	setsockopt(bufferevent_getfd(c->bev), IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one));
}

/* Open loop: makes the next sheet due at start + i / rate. */
static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	int64_t		now = now_us(), next_us;
	struct timeval	tv;

	(void)fd; (void)what; (void)arg;
	while (g.due < g.njobs && g.start_us +
	    (int64_t)((double)g.due * 1e6 / g.rate) <= now) {
		g.jobs[g.due].sched_us = g.start_us +
		    (int64_t)((double)g.due * 1e6 / g.rate);
		g.due++;
	}
	dispatch();
	if (g.due < g.njobs && !g.stopped) {
		next_us = g.start_us + (int64_t)((double)g.due * 1e6 / g.rate) -
		    now_us();
		if (next_us < 0)
			next_us = 0;
		tv.tv_sec = next_us / 1000000;
		tv.tv_usec = next_us % 1000000;
		evtimer_add(g.tick, &tv);
	}
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void
report(const char *out)
{
	FILE		*f;
	int64_t		*lat, first = INT64_MAX, last = 0, paid = 0;
	int		 i, n = 0, ok = 0, unanswered = 0;
	struct rusage	 ru;
	double		 wall, cpu;

	if ((f = fopen(out, "w")) == NULL)
		fatal("could not create \"%s\": %s", out, strerror(errno));
	if ((lat = calloc((size_t)g.njobs, sizeof(*lat))) == NULL)
		fatal("out of memory");
	for (i = 0; i < g.njobs; i++) {
		struct job *j = &g.jobs[i];

		if (!j->sent)
			continue;
		fprintf(f, "%s\t%d\t%d\t%s\t%d\t%d\t%" PRId64 "\t%" PRId64 "\t%"
		    PRId64 "\n", j->msg_id, j->nlines, j->status,
		    j->grpsts[0] ? j->grpsts : "-", j->refused, j->paid,
		    j->sched_us, j->sent_us, j->done_us);
		if (j->status <= 0) {
			unanswered++;
			continue;
		}
		ok += j->status == 200;
		paid += j->paid;
		lat[n++] = j->done_us - j->sched_us;
		if (j->sent_us < first)
			first = j->sent_us;
		if (j->done_us > last)
			last = j->done_us;
	}
	if (fclose(f) != 0)
		fatal("could not write \"%s\"", out);
	qsort(lat, (size_t)n, sizeof(*lat), cmp_i64);
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	wall = n > 0 ? (double)(last - first) / 1e6 : 0;
	fprintf(stderr, "loadgen %s: %d sent, %d answered 200, %d unanswered, "
	    "%" PRId64 " lines answered paid in %.2f s (%.0f lines/s), latency "
	    "p50 %.1f ms p99 %.1f ms max %.1f ms, own CPU %.2f s\n", g.label,
	    g.next, ok, unanswered, paid, wall, wall > 0 ? (double)paid / wall : 0,
	    n ? (double)lat[n / 2] / 1000 : 0,
	    n ? (double)lat[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] / 1000 : 0,
	    n ? (double)lat[n - 1] / 1000 : 0, cpu);
	free(lat);
}

static void
usage(void)
{
	fprintf(stderr, "usage: loadgen -a HOST:PORT -c CERT -k KEY -C CA -i INDEX "
	    "-o OUT [-n CONNS] [-r SHEETS_PER_S] [-T SECONDS] [-D DELAY] "
	    "[-l LABEL]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	const char	*addr = NULL, *cert = NULL, *key = NULL, *ca = NULL;
	const char	*index = NULL, *out = NULL;
	char		 host[256], *colon;
	double		 delay = 0;
	int		 ch, i;

	g.nconns = 4;
	g.label = "run";
	while ((ch = getopt(argc, argv, "a:c:k:C:i:o:n:r:T:D:l:")) != -1) {
		switch (ch) {
		case 'a': addr = optarg; break;
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'C': ca = optarg; break;
		case 'i': index = optarg; break;
		case 'o': out = optarg; break;
		case 'n': g.nconns = atoi(optarg); break;
		case 'r': g.rate = atof(optarg); break;
		case 'T': g.duration = atof(optarg); break;
		case 'D': delay = atof(optarg); break;
		case 'l': g.label = optarg; break;
		default: usage();
		}
	}
	if (addr == NULL || cert == NULL || key == NULL || ca == NULL ||
	    index == NULL || out == NULL || g.nconns < 1 || g.nconns > 10000)
		usage();
	snprintf(host, sizeof(host), "%s", addr);
	if ((colon = strrchr(host, ':')) == NULL)
		usage();
	*colon = '\0';
	g.addr.sin_family = AF_INET;
	g.addr.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &g.addr.sin_addr) != 1)
		fatal("-a wants an IPv4 address and a port, not \"%s\"", addr);
	load_index(index);

	/* a daemon that answers early (413) and closes must not kill us */
	signal(SIGPIPE, SIG_IGN);
	if ((g.ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(g.ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_use_certificate_chain_file(g.ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(g.ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_load_verify_locations(g.ctx, ca, NULL) != 1)
		fatal("could not load the client certificate, key or CA");
	SSL_CTX_set_verify(g.ctx, SSL_VERIFY_PEER, NULL);

	if ((g.base = event_base_new()) == NULL ||
	    (g.tick = evtimer_new(g.base, tick_cb, NULL)) == NULL ||
	    (g.conns = calloc((size_t)g.nconns, sizeof(*g.conns))) == NULL)
		fatal("could not set up libevent");
	if (delay > 0)
		usleep((useconds_t)(delay * 1e6));
	g.start_us = now_us();
	g.due = g.rate > 0 ? 0 : g.njobs;
	for (i = 0; i < g.nconns; i++) {
		g.conns[i].id = i;
		g.conns[i].job = -1;
		conn_open(&g.conns[i]);
	}
	if (g.rate > 0)
		tick_cb(-1, 0, NULL);
	event_base_dispatch(g.base);
	report(out);
	for (i = 0; i < g.nconns; i++)
		conn_reset(&g.conns[i]);
	return g.failures > 0 ? 1 : 0;
}
