/* Page data written behind the reader: while the dump gets the next batch
 * of a task's pages (process_vm_readv into a buffer, or an injected
 * vmsplice into a pipe), a writer thread appends the batches got before
 * to their pages image (write, or splice out of the pipe). Getting pages is
 * latency-bound (a ptrace round trip per vmsplice) or one core's copy, and
 * writing a page file is tmpfs page allocation plus a copy: overlapping
 * them is what two cores give the dump; runtime/coordinator/PERFORMANCE.md has
 * the figures and what did not help.
 *
 * Small dumps never start the thread: until SINK_ASYNC_MIN bytes have gone
 * through, a buffer is written as soon as it is handed back, so an idle
 * container or a tree of small processes pays nothing for it. A splice
 * out of a task's pipe starts it at once: only big tasks have pipes.
 *
 * Buffers are written in the order they are handed back. From the first
 * cr_sink_put() to a pages image until cr_sink_sync() returns, only the
 * writer thread touches that image: sync before closing or aborting it. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/mem.h"
#include "util.h"

#ifndef SINK_BUFS /* -D for experiments */
#define SINK_BUFS 4   /* buffers of page data: what a dump holds in memory */
#endif
#define SINK_SLOTS 16 /* writes queued: buffers, and splices out of the task's pipes */
#ifndef SINK_BUF_SIZE
#define SINK_BUF_SIZE (4u << 20)
#endif
#ifndef SINK_ASYNC_MIN
#define SINK_ASYNC_MIN (16u << 20)
#endif

struct sink_buf {
	uint8_t *p; /* one of bufs[]; NULL for a splice */
	size_t len;
	struct cr_img *img;
	int pipe_fd; /* >= 0: splice len bytes from it instead of writing p */
};

struct cr_sink {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	bool running, stop;
	struct sink_buf b[SINK_SLOTS];
	size_t head;	      /* the next slot to write */
	size_t queued;	      /* handed back, not written yet (head first) */
	/* Buffers are used in turn too: next_buf is the one to fill next, and
	 * the bufs_queued before it are in slots still queued. */
	uint8_t *bufs[SINK_BUFS];
	size_t next_buf, bufs_queued;
	uint64_t puts, written; /* writes queued and done so far */
	uint64_t bytes;	      /* handed back so far */
	struct rt_err *err;   /* the writer's first error */
	uint64_t *blocked_us; /* caller's counter: time the reader waited */
};

struct cr_sink *cr_sink_new(uint64_t *blocked_us)
{
	struct cr_sink *s = xcalloc(1, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->blocked_us = blocked_us;
	return s;
}

static int write_one(const struct sink_buf *b, struct rt_err **err)
{
	if (b->pipe_fd >= 0)
		return cr_img_splice_raw(b->img, b->pipe_fd, b->len, err);
	return cr_img_write_raw(b->img, b->p, b->len, err);
}

static void *writer_main(void *arg)
{
	struct cr_sink *s = arg;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (s->queued == 0 && !s->stop)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->queued == 0)
			break;
		struct sink_buf *b = &s->b[s->head];
		/* After an error, or once freed (every image was synced or
		 * is gone), only drain. */
		bool skip = s->err != NULL || s->stop;
		pthread_mutex_unlock(&s->mu);
		struct rt_err *e = NULL;
		if (!skip)
			write_one(b, &e);
		pthread_mutex_lock(&s->mu);
		if (e && !s->err)
			s->err = steal_pointer(&e);
		rt_err_free(e);
		s->head = (s->head + 1) % SINK_SLOTS;
		s->queued--;
		s->written++;
		if (b->p)
			s->bufs_queued--;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* The writer gets no signals: they are the coordinator's (SIGCHLD of the
 * tracees) and must not interrupt its writes. */
static void start_writer(struct cr_sink *s)
{
	s->running = rt_thread_start(&s->thread, writer_main, s) == 0;
}

/* Wait (locked) until fewer than `most` writes, and fewer than
 * `most_bufs` of them from buffers, are queued. */
static void wait_queued_below(struct cr_sink *s, size_t most, size_t most_bufs)
{
	if (s->queued < most && s->bufs_queued < most_bufs)
		return;
	uint64_t t0 = cr_now_us();
	while (s->queued >= most || s->bufs_queued >= most_bufs)
		pthread_cond_wait(&s->cv, &s->mu);
	*s->blocked_us += cr_now_us() - t0;
}

size_t cr_sink_buf_size(void)
{
	return SINK_BUF_SIZE;
}

uint8_t *cr_sink_buf(struct cr_sink *s, size_t *cap)
{
	pthread_mutex_lock(&s->mu);
	wait_queued_below(s, SINK_SLOTS, SINK_BUFS);
	uint8_t **b = &s->bufs[s->next_buf];
	pthread_mutex_unlock(&s->mu);
	if (*b == NULL)
		*b = xmalloc(SINK_BUF_SIZE);
	*cap = SINK_BUF_SIZE;
	return *b;
}

static int take_error(struct cr_sink *s, struct rt_err **err)
{
	if (s->err == NULL)
		return 0;
	if (err && *err == NULL)
		*err = steal_pointer(&s->err);
	return -1;
}

/* Queue (or, before the thread runs, do) one write of b; *ticket (if
 * wanted) is the write's, for cr_sink_wait_for. */
static int put(struct cr_sink *s, struct sink_buf b, uint64_t *ticket, struct rt_err **err)
{
	if (b.len == 0)
		return 0;
	pthread_mutex_lock(&s->mu);
	wait_queued_below(s, SINK_SLOTS, SINK_BUFS + 1);
	if (b.pipe_fd < 0) { /* the buffer cr_sink_buf gave */
		b.p = s->bufs[s->next_buf];
		s->next_buf = (s->next_buf + 1) % SINK_BUFS;
	}
	s->bytes += b.len;
	s->puts++;
	if (ticket)
		*ticket = s->puts;
	if (!s->running && (s->bytes >= SINK_ASYNC_MIN || b.pipe_fd >= 0))
		start_writer(s);
	int ret = take_error(s, err);
	if (ret == 0 && s->running) {
		s->b[(s->head + s->queued) % SINK_SLOTS] = b;
		s->queued++;
		s->bufs_queued += b.p != NULL;
		pthread_cond_broadcast(&s->cv);
	} else {
		s->written++;
	}
	pthread_mutex_unlock(&s->mu);
	if (ret < 0 || s->running)
		return ret;
	uint64_t t0 = cr_now_us();
	ret = write_one(&b, err);
	*s->blocked_us += cr_now_us() - t0;
	return ret;
}

int cr_sink_put(struct cr_sink *s, struct cr_img *img, size_t len, struct rt_err **err)
{
	return put(s, (struct sink_buf){.len = len, .img = img, .pipe_fd = -1}, NULL, err);
}

int cr_sink_put_pipe(struct cr_sink *s, struct cr_img *img, int pipe_fd, size_t len,
		     uint64_t *ticket, struct rt_err **err)
{
	return put(s, (struct sink_buf){.len = len, .img = img, .pipe_fd = pipe_fd}, ticket,
		   err);
}

void cr_sink_wait_for(struct cr_sink *s, uint64_t ticket)
{
	pthread_mutex_lock(&s->mu);
	if (s->written < ticket) {
		uint64_t t0 = cr_now_us();
		while (s->written < ticket)
			pthread_cond_wait(&s->cv, &s->mu);
		*s->blocked_us += cr_now_us() - t0;
	}
	pthread_mutex_unlock(&s->mu);
}

int cr_sink_sync(struct cr_sink *s, struct rt_err **err)
{
	pthread_mutex_lock(&s->mu);
	wait_queued_below(s, 1, 1);
	int ret = take_error(s, err);
	pthread_mutex_unlock(&s->mu);
	return ret;
}

void cr_sink_free(struct cr_sink *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (s->running)
		pthread_join(s->thread, NULL);
	for (size_t i = 0; i < SINK_BUFS; i++)
		free(s->bufs[i]);
	rt_err_free(s->err);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
