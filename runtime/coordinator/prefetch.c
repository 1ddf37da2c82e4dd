/* Reading /proc ahead of the dump: a helper thread reads the files the
 * resources will read of each task (smaps, limits, personality, timers,
 * timerslack_ns), task by task in dump order, while the dump thread
 * injects syscalls and writes images; a resource takes its text when it
 * gets there. On two cores this takes most of the /proc reading (a
 * third of a small task's dump) off the dump's path.
 *
 * The texts cannot go stale: every task is seized and prepared (its
 * scratch page mapped) before the helper starts, and nothing the dump
 * does later changes these files (a pre-dump's write tracking changes
 * only smaps' "uw" flag, which the dump ignores). A file the helper could
 * not read is read again by the resource, which reports the error. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/internal.h"
#include "util.h"

static const char *const files[] = { "smaps", "limits", "personality", "timers",
				     "timerslack_ns" };
#define N_FILES ARRAY_SIZE(files)

struct cr_prefetch {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	const struct cr_dtask *tasks; /* the dump's, read-only here */
	size_t n, done;		      /* tasks, and tasks read so far */
	size_t n_files;		      /* a pre-dump reads smaps only */
	bool stop;
	char **text; /* [task * N_FILES + file], NULL: not read */
};

static void *prefetch_main(void *arg)
{
	struct cr_prefetch *p = arg;
	for (size_t i = 0; i < p->n; i++) {
		char *got[N_FILES] = { NULL };
		for (size_t f = 0; f < p->n_files && !p->tasks[i].zombie; f++)
			cr_proc_read(p->tasks[i].hpid, files[f], &got[f], NULL);
		pthread_mutex_lock(&p->mu);
		memcpy(&p->text[i * N_FILES], got, sizeof(got));
		p->done = i + 1;
		bool stop = p->stop;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		if (stop)
			break;
	}
	return NULL;
}

void cr_prefetch_start(struct cr_dump_ctx *c)
{
	if (c->n < 2) /* nothing to overlap with */
		return;
	struct cr_prefetch *p = xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->tasks = c->tasks;
	p->n = c->n;
	p->n_files = c->o->pre_dump ? 1 : N_FILES;
	p->text = xcalloc(c->n * N_FILES, sizeof(char *));
	if (rt_thread_start(&p->thread, prefetch_main, p) != 0) {
		free(p->text);
		free(p);
		return;
	}
	for (size_t i = 0; i < c->n; i++)
		c->tasks[i].prefetch = p;
	c->prefetch = p;
}

void cr_prefetch_stop(struct cr_dump_ctx *c)
{
	struct cr_prefetch *p = c->prefetch;
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	for (size_t i = 0; i < p->n * N_FILES; i++)
		free(p->text[i]);
	free(p->text);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
	for (size_t i = 0; i < c->n; i++)
		c->tasks[i].prefetch = NULL;
	c->prefetch = NULL;
}

int cr_task_read(struct cr_dtask *t, const char *file, char **out, struct rt_err **err)
{
	struct cr_prefetch *p = t->prefetch;
	size_t f = 0;
	while (f < N_FILES && strcmp(files[f], file) != 0)
		f++;
	if (p && f < p->n_files) {
		size_t i = t->index;
		pthread_mutex_lock(&p->mu);
		while (p->done <= i && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		*out = p->done > i ? steal_pointer(&p->text[i * N_FILES + f]) : NULL;
		pthread_mutex_unlock(&p->mu);
		if (*out)
			return 0;
	}
	return cr_proc_read(t->hpid, file, out, err);
}
