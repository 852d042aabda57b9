// SPDX-License-Identifier: Apache-2.0
/*
 * fixed_server: the ceiling of benchmark 4 (bench/run.py). A libmicrohttpd server with
 * sf-api's thread settings (api/src/http.c: MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL,
 * a thread pool of sf-api's `threads`) that answers every request with 200 and a fixed body
 * of the given size, with the headers sf-api sends (Content-Type, X-Request-ID). No routing,
 * no authentication, no Redis, no logging: what is left is MHD and the kernel.
 *
 *   fixed_server PORT THREADS BODY_BYTES
 *
 * Listens on 127.0.0.1:PORT until SIGINT or SIGTERM.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sf/util.h"

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	static int seen;
	struct MHD_Response *resp = cls;

	(void)url;
	(void)method;
	(void)version;
	(void)upload;
	/* As sf-api does: the first call only starts the request (answering then makes MHD close
	 * the connection), later ones take the body, if any, and answer. */
	if (!*con_cls) {
		*con_cls = &seen;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0; /* read and ignored */
		return MHD_YES;
	}
	return MHD_queue_response(conn, MHD_HTTP_OK, resp);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct MHD_Response *resp;
	struct MHD_Daemon *d;
	long port, threads, size;
	sigset_t stop;
	char *body;
	int sig;

	if (argc != 4 || sf_parse_long(argv[1], 1, 65535, &port) < 0 ||
	    sf_parse_long(argv[2], 1, 256, &threads) < 0 ||
	    sf_parse_long(argv[3], 0, 1 << 20, &size) < 0) {
		(void)fprintf(stderr, "usage: %s PORT THREADS BODY_BYTES\n", argv[0]);
		return 2;
	}
	body = sf_xmalloc((size_t)size + 1);
	memset(body, 'x', (size_t)size);
	resp = MHD_create_response_from_buffer((size_t)size, body, MHD_RESPMEM_PERSISTENT);
	if (!resp ||
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json") !=
		    MHD_YES ||
	    MHD_add_response_header(resp, "X-Request-ID", "00000000-0000-4000-8000-000000000000") !=
		    MHD_YES) {
		(void)fprintf(stderr, "fixed_server: cannot build the response\n");
		return 1;
	}
	/* blocked before MHD starts its threads, which inherit the mask: sigwait() gets them */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG,
		0, NULL, NULL, on_request, resp, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads, MHD_OPTION_END);
	if (!d) {
		(void)fprintf(stderr, "fixed_server: cannot listen on 127.0.0.1:%ld\n", port);
		return 1;
	}
	(void)printf("fixed_server: listening on 127.0.0.1:%ld, %ld threads, %ld-byte body\n", port,
		     threads, size);
	(void)fflush(stdout);
	(void)sigwait(&stop, &sig);
	MHD_stop_daemon(d);
	MHD_destroy_response(resp);
	free(body);
	return 0;
}
