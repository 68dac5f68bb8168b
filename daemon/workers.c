/*
 * workers.c: a small fixed pool of threads for CPU-heavy work (parsing,
 * schema and signature checks of large sheets), so that the event loop
 * stays responsive while a 100,000-line sheet is read.
 *
 * A job's work() runs on a worker thread and must touch nothing mutable
 * that is shared: it reads its own input and writes its own output. Its
 * done() runs afterwards on the loop thread, where everything else lives.
 * Owns the threads, the two queues and the wake-up event. A pool may run at
 * a lower priority (nice): the daemon reads sheets of many megabytes on
 * such a pool of their own, so that a 100,000-line sheet never takes the
 * CPU from the small sheets that keep arriving while it is read.
 */
#include <sys/resource.h>
#include <sys/syscall.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "daemon.h"
#include "log.h"

struct job {
	struct job	*next;
	void		(*work)(void *);
	void		(*done)(void *);
	void		*arg;
};

struct workers {
	pthread_mutex_t	 lock;
	pthread_cond_t	 wake;
	struct job	*todo, *todo_tail;
	struct job	*finished;	/* LIFO; done() order does not matter */
	struct event	*finished_ev;
	pthread_t	*threads;
	int		 nthreads;
	int		 nice;		/* of its threads */
	int		 queued;	/* submitted, done() not yet run */
	bool		 stopping;
};

static void *
worker_main(void *arg)
{
	struct workers	*w = arg;
	struct job	*j;

	/* Linux schedules threads one by one: this lowers only this one */
	if (w->nice != 0 &&
	    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), w->nice) == -1)
		log_warn("could not lower a bulk worker's priority");
	for (;;) {
		pthread_mutex_lock(&w->lock);
		while (w->todo == NULL && !w->stopping)
			pthread_cond_wait(&w->wake, &w->lock);
		if (w->todo == NULL) {
			pthread_mutex_unlock(&w->lock);
			return NULL;
		}
		j = w->todo;
		if ((w->todo = j->next) == NULL)
			w->todo_tail = NULL;
		pthread_mutex_unlock(&w->lock);

		j->work(j->arg);

		pthread_mutex_lock(&w->lock);
		j->next = w->finished;
		w->finished = j;
		pthread_mutex_unlock(&w->lock);
		event_active(w->finished_ev, EV_READ, 0);
	}
}

/* On the loop thread: runs done() of every finished job. */
static void
finished_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct workers	*w = arg;
	struct job	*list, *j;

	(void)fd; (void)ev;
	pthread_mutex_lock(&w->lock);
	list = w->finished;
	w->finished = NULL;
	pthread_mutex_unlock(&w->lock);
	while ((j = list) != NULL) {
		list = j->next;
		w->queued--;
		j->done(j->arg);
		free(j);
	}
}

struct workers *
workers_new(struct event_base *base, int n, int nice)
{
	struct workers	*w;
	int		 i;

	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->threads = calloc((size_t)n, sizeof(*w->threads))) == NULL) {
		free(w);
		return NULL;
	}
	w->nice = nice;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	if ((w->finished_ev = event_new(base, -1, 0, finished_cb, w)) == NULL)
		fatalx("could not create the worker wake-up event");
	for (i = 0; i < n; i++) {
		if (pthread_create(&w->threads[i], NULL, worker_main, w) != 0)
			fatal("could not start worker thread %d", i);
		w->nthreads++;
	}
	return w;
}

int
workers_submit(struct workers *w, void (*work)(void *), void (*done)(void *),
    void *arg)
{
	struct job	*j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return -1;
	j->work = work;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&w->lock);
	if (w->todo_tail != NULL)
		w->todo_tail->next = j;
	else
		w->todo = j;
	w->todo_tail = j;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	w->queued++;
	return 0;
}

int
workers_backlog(struct workers *w)
{
	return w->queued;
}

void
workers_free(struct workers *w)
{
	int	i;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_broadcast(&w->wake);
	pthread_mutex_unlock(&w->lock);
	for (i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	/* jobs finished after the loop stopped: their done() still frees */
	finished_cb(-1, 0, w);
	event_free(w->finished_ev);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	free(w->threads);
	free(w);
}
