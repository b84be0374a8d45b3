/*
 * fs_loop.c - the FUSE request loop: worker threads that take turns
 * reading /dev/fuse, with a short busy poll between requests.
 *
 * What a walk costs.  A request of `ls -lR`, find or `cp -r` over cached
 * data is answered in microseconds; the round trip around it costs more:
 * the kernel wakes a thread of ours, our answer wakes the caller.  The
 * scheduler puts a woken thread on an idle CPU, and on a virtual machine
 * whose idle vCPUs halt at once waking one costs tens of microseconds, so
 * every request paid it twice.
 *
 * So, as kvm's halt polling does for a vCPU, the thread reading /dev/fuse
 * (the reader) keeps reading without blocking for busy_poll microseconds
 * after each request before it sleeps in poll(): the next request of a
 * walk is then taken without any wake-up.  Idle, rpfs uses no CPU.
 *
 * One reader at a time.  The reader answers the request it read itself
 * and stays the reader, so a walk is served by one thread without
 * hand-offs.  An answer that has to wait (blocking.h: an HTTP request, a
 * fetch of another thread, a rate limit, a sign-in) first gives the
 * reader role to an idle worker, or starts one (at most max_threads), so
 * other requests are not held behind the network.  A worker that
 * finishes takes the role back if nobody holds it, else sleeps until the
 * role is given to it.  As a safety net for a wait that does not say so
 * (a lock, the kernel), the calling thread looks every LOOP_WATCH_MS and
 * hands the role on from a reader still busy with the same request.
 *
 * The other half of each round trip is the caller's: it sleeps until our
 * answer comes, and its idle CPU halts.  With cpu_poll, while requests
 * come the loop holds a CPU latency request of 0 us (PM QoS,
 * /dev/cpu_dma_latency; root only), under which the kernel's idle loop
 * polls instead of halting, and drops it QOS_LINGER_MS after the last
 * request: the answer then reaches a caller that is still running.
 *
 * The loop ends when the file system is unmounted (the read fails with
 * ENODEV) or when fuse_session_exit() was called (libfuse's signal
 * handlers, which run in the calling thread: the workers block those
 * signals).  Requests being answered are finished first.
 */
#define FUSE_USE_VERSION 35
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "blocking.h"
#include "fs_loop.h"
#include "log.h"

#define LOOP_MAX_THREADS 64
#define LOOP_WATCH_MS 250
#define QOS_LINGER_MS 10
#define QOS_DEVICE "/dev/cpu_dma_latency"

struct loop;

struct worker {
	struct loop *l;
	int reader;	/* this worker holds the role (atomic: the watchdog clears it) */
	int processing; /* answering a request it read (atomic) */
};

struct loop {
	struct fuse_session *se;
	int fd;		   /* /dev/fuse, made non-blocking */
	int wake_fd;	   /* eventfd: written to wake the reader's poll() */
	long long poll_ns; /* busy poll after each request */
	int cpu_poll;	   /* hold a CPU latency request while requests come (atomic) */
	int qos_fd;	   /* QOS_DEVICE while the request is held, else -1 (atomic) */
	unsigned max_threads;
	pthread_mutex_t lock;
	pthread_cond_t idle;	 /* idle workers wait here for the reader role */
	sem_t finish;		 /* posted by a worker that saw the end */
	struct worker *reader_w; /* the worker with the reader role, or NULL */
	unsigned long proc_seq;	 /* requests the readers began to answer (atomic) */
	int stop;
	int err; /* first -errno of /dev/fuse */
	unsigned nthreads, nidle;
	int spawn_failed;
	pthread_t th[LOOP_MAX_THREADS];
	struct worker w[LOOP_MAX_THREADS];
};

static __thread struct worker *loop_self;

static void *loop_worker(void *arg);

static long long ns_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)(t.tv_sec - t0->tv_sec) * 1000000000LL + (t.tv_nsec - t0->tv_nsec);
}

/* Start one more worker, l->lock held.  The workers block the signals
 * that stop or steer the daemon, so that they reach the thread waiting in
 * fs_loop_run(). */
static void loop_spawn(struct loop *l)
{
	sigset_t block, old;
	struct worker *w;
	int rc;

	if (l->stop || l->nthreads >= l->max_threads)
		return;
	w = &l->w[l->nthreads];
	w->l = l;
	w->reader = 0;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	sigaddset(&block, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	rc = pthread_create(&l->th[l->nthreads], NULL, loop_worker, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		if (!l->spawn_failed)
			log_warn("cannot start a FUSE thread (%s); requests wait for a free one",
				 strerror(rc));
		l->spawn_failed = 1;
		return;
	}
	l->nthreads++;
}

/* Take the reader role from w and give it to an idle worker, or to a new
 * one; l->lock held. */
static void loop_hand_off(struct loop *l, struct worker *w)
{
	__atomic_store_n(&w->reader, 0, __ATOMIC_RELAXED);
	l->reader_w = NULL;
	if (l->nidle)
		pthread_cond_signal(&l->idle);
	else
		loop_spawn(l);
}

/* The blocking hook of a worker: give the reader role away before a wait. */
static void loop_release(void)
{
	struct worker *w = loop_self;
	struct loop *l;

	if (!w || !__atomic_load_n(&w->reader, __ATOMIC_RELAXED))
		return;
	l = w->l;
	pthread_mutex_lock(&l->lock);
	if (l->reader_w == w)
		loop_hand_off(l, w);
	pthread_mutex_unlock(&l->lock);
}

/* The safety net, every LOOP_WATCH_MS from fs_loop_run(): a reader still
 * answering the request it answered at the last look waits on something
 * that does not say so (blocking.h); reading goes on in another thread. */
static void loop_watch(struct loop *l, unsigned long *seen)
{
	unsigned long seq = __atomic_load_n(&l->proc_seq, __ATOMIC_RELAXED);

	pthread_mutex_lock(&l->lock);
	if (l->reader_w && __atomic_load_n(&l->reader_w->processing, __ATOMIC_RELAXED) &&
	    seq == *seen) {
		log_debug("a FUSE request held the reader for %d ms: reading in another thread",
			  LOOP_WATCH_MS);
		loop_hand_off(l, l->reader_w);
	}
	pthread_mutex_unlock(&l->lock);
	*seen = seq;
}

/* Hold the CPU latency request (0 us) while requests come.  Opening the
 * device adds the request, closing it drops it
 * (Documentation/power/pm_qos_interface.rst).  Where it cannot be opened
 * (not root), cpu_poll is dropped for good.  The reader calls these; the
 * fd is swapped atomically because for a moment after the safety net
 * moved the role two threads may be readers. */
static int qos_held(struct loop *l)
{
	return __atomic_load_n(&l->qos_fd, __ATOMIC_RELAXED) >= 0;
}

static void qos_hold(struct loop *l)
{
	int32_t zero = 0;
	int fd, none = -1;

	if (!__atomic_load_n(&l->cpu_poll, __ATOMIC_RELAXED) || qos_held(l))
		return;
	fd = open(QOS_DEVICE, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, &zero, sizeof(zero)) != (ssize_t)sizeof(zero)) {
		log_debug("cpu_poll: cannot request a CPU latency on %s (%s)", QOS_DEVICE,
			  strerror(errno));
		if (fd >= 0)
			close(fd);
		__atomic_store_n(&l->cpu_poll, 0, __ATOMIC_RELAXED);
		return;
	}
	if (!__atomic_compare_exchange_n(&l->qos_fd, &none, fd, 0, __ATOMIC_RELAXED,
					 __ATOMIC_RELAXED))
		close(fd); /* the other reader holds one */
}

static void qos_drop(struct loop *l)
{
	int fd = __atomic_exchange_n(&l->qos_fd, -1, __ATOMIC_RELAXED);

	if (fd >= 0)
		close(fd);
}

/* Read one request: non-blocking reads for poll_ns, then sleep in poll().
 * > 0: a request in buf; 0: the loop ends; -errno: /dev/fuse failed. */
static int loop_receive(struct loop *l, struct fuse_buf *buf)
{
	struct timespec t0;
	int polling = 0;

	for (;;) {
		struct pollfd p[2];
		int res = fuse_session_receive_buf(l->se, buf), n;

		if (res > 0)
			qos_hold(l);
		if (res != -EAGAIN && res != -EINTR)
			return res; /* 0 when the session ended (unmount, exit) */
		if (__atomic_load_n(&l->stop, __ATOMIC_RELAXED) || fuse_session_exited(l->se))
			return 0;
		if (l->poll_ns > 0 && !qos_held(l)) {
			if (!polling) {
				clock_gettime(CLOCK_MONOTONIC, &t0);
				polling = 1;
				continue;
			}
			if (ns_since(&t0) < l->poll_ns)
				continue;
		}
		p[0] = (struct pollfd){.fd = l->fd, .events = POLLIN};
		p[1] = (struct pollfd){.fd = l->wake_fd, .events = POLLIN};
		n = poll(p, 2, qos_held(l) ? QOS_LINGER_MS : -1);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n == 0)
			qos_drop(l);
		if (n > 0 && p[1].revents)
			return 0;
		polling = 0;
	}
}

static void *loop_worker(void *arg)
{
	struct worker *w = arg;
	struct loop *l = w->l;
	struct fuse_buf buf;
	int res;

	memset(&buf, 0, sizeof(buf));
	loop_self = w;
	blocking_hook = loop_release;
	pthread_mutex_lock(&l->lock);
	while (!l->stop) {
		if (l->reader_w) {
			l->nidle++;
			pthread_cond_wait(&l->idle, &l->lock);
			l->nidle--;
			continue;
		}
		l->reader_w = w;
		__atomic_store_n(&w->reader, 1, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&l->lock);
		do {
			res = loop_receive(l, &buf);
			if (res > 0) {
				__atomic_add_fetch(&l->proc_seq, 1, __ATOMIC_RELAXED);
				__atomic_store_n(&w->processing, 1, __ATOMIC_RELAXED);
				fuse_session_process_buf(l->se, &buf);
				__atomic_store_n(&w->processing, 0, __ATOMIC_RELAXED);
			}
		} while (res > 0 && __atomic_load_n(&w->reader, __ATOMIC_RELAXED));
		pthread_mutex_lock(&l->lock);
		if (l->reader_w == w) {
			__atomic_store_n(&w->reader, 0, __ATOMIC_RELAXED);
			l->reader_w = NULL;
		}
		if (res <= 0) {
			if (res < 0 && !l->err)
				l->err = res;
			__atomic_store_n(&l->stop, 1, __ATOMIC_RELAXED);
			pthread_cond_broadcast(&l->idle);
			sem_post(&l->finish);
		}
	}
	pthread_mutex_unlock(&l->lock);
	blocking_hook = NULL;
	loop_self = NULL;
	free(buf.mem);
	return NULL;
}

int fs_loop_run(struct fuse_session *se, const struct fs_loop_cfg *cfg)
{
	struct loop *l = calloc(1, sizeof(*l));
	uint64_t one = 1;
	unsigned long seen = 0;
	int flags, rc;

	if (!l)
		return -ENOMEM;
	l->se = se;
	l->fd = fuse_session_fd(se);
	l->poll_ns = (long long)cfg->busy_poll_us * 1000;
	l->cpu_poll = cfg->cpu_poll;
	l->qos_fd = -1;
	l->max_threads = cfg->max_threads ? cfg->max_threads : 1;
	if (l->max_threads > LOOP_MAX_THREADS)
		l->max_threads = LOOP_MAX_THREADS;
	l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	flags = fcntl(l->fd, F_GETFL);
	if (l->wake_fd < 0 || flags < 0 || fcntl(l->fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		rc = -errno;
		if (l->wake_fd >= 0)
			close(l->wake_fd);
		free(l);
		return rc;
	}
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->idle, NULL);
	sem_init(&l->finish, 0, 0);

	pthread_mutex_lock(&l->lock);
	loop_spawn(l);
	rc = l->nthreads ? 0 : -EAGAIN;
	pthread_mutex_unlock(&l->lock);

	/* The signal handlers run here and call fuse_session_exit(); the
	 * timeout also covers a signal that came just before the wait. */
	while (rc == 0 && !fuse_session_exited(se)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += LOOP_WATCH_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (sem_timedwait(&l->finish, &ts) == 0)
			break;
		loop_watch(l, &seen);
	}

	pthread_mutex_lock(&l->lock);
	__atomic_store_n(&l->stop, 1, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&l->idle);
	pthread_mutex_unlock(&l->lock);
	if (write(l->wake_fd, &one, sizeof(one)) < 0)
		log_warn("cannot wake the FUSE reader: %s", strerror(errno));
	for (unsigned i = 0; i < l->nthreads; i++)
		pthread_join(l->th[i], NULL);
	if (rc == 0)
		rc = l->err;
	fcntl(l->fd, F_SETFL, flags);
	qos_drop(l);
	fuse_session_reset(se);
	sem_destroy(&l->finish);
	pthread_cond_destroy(&l->idle);
	pthread_mutex_destroy(&l->lock);
	close(l->wake_fd);
	free(l);
	return rc;
}
