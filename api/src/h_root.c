// SPDX-License-Identifier: Apache-2.0
/* GET /: the HTML page clients search for capability strings (spec 1.2). */
#include "api.h"

/* Only what we implement: a client checks these before it sends the matching call. */
static const char root_page[] =
	"<html>\n"
	"<head><title>Shaken Fist REST API service</title></head>\n"
	"<body>\n"
	"<h1>Shaken Fist REST API service</h1>\n"
	"<p>This is the sf-net implementation of the networking parts of the Shaken Fist REST "
	"API.</p>\n"
	"<p>Machine searchable API capabilities:</p>\n"
	"<ul>\n"
	"<li>events: events-by-type</li>\n"
	"<li>instances: hot-plug-interface</li>\n"
	"<li>networks: list-addresses, route-addresses, get-network-namespace, provide-dns, "
	"extra-dns-entries</li>\n"
	"<li>networkinterfaces: interface-metadata</li>\n"
	"<li>nodes: node-get</li>\n"
	"</ul>\n"
	"</body>\n"
	"</html>\n";

static int get_root(struct api_ctx *ctx, const struct api_request *req, struct api_response *resp)
{
	(void)ctx;
	(void)req;
	api_ok(resp, NULL);
	resp->raw = sf_xstrdup(root_page);
	resp->content_type = "text/html; charset=utf-8";
	return 0;
}

const struct api_route api_routes_root[] = {
	{"GET", "/", NULL, API_PUBLIC, get_root},
	{0},
};
