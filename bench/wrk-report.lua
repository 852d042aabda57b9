-- SPDX-License-Identifier: Apache-2.0
-- wrk script of bench/run.py. At the end, one line "WRK-JSON {...}" with the request count,
-- the duration, the errors and the latency percentiles (microseconds), for the harness.
-- With the environment variable SF_BENCH_POST set, every request is a POST /networks with a
-- body of its own (a new network each; the netblock differs per request).

local post = os.getenv("SF_BENCH_POST")
local threads = {}
local counter = 0
thread_id = 0

function setup(thread)
	thread:set("thread_id", #threads)
	table.insert(threads, thread)
end

-- Only the POST run defines request(): wrk then calls it for each request; without it, wrk
-- sends its one prepared GET again and again.
if post then
	local headers = {}

	init = function(args)
		for k, v in pairs(wrk.headers) do -- the -H ones: Authorization
			headers[k] = v
		end
		headers["Content-Type"] = "application/json"
	end

	request = function()
		counter = counter + 1
		local n = thread_id * 1000000 + counter
		local body = string.format(
			'{"netblock": "172.%d.%d.0/24", "name": "bench-post-%d", "provide_dhcp": false}',
			16 + math.floor(n / 256) % 16, n % 256, n)
		return wrk.format("POST", "/networks", headers, body)
	end
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		'WRK-JSON {"requests": %d, "duration_us": %d, "socket_errors": %d, "non2xx": %d, ' ..
		'"p50_us": %d, "p95_us": %d, "p99_us": %d}\n',
		summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
		latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
