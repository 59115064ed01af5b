-- wrk script for the bucketgate load run (docs/performance.md): a
-- b2_update_bucket call whose body differs on every request, so no layer can
-- serve a repeated body from a cache.
--
--   wrk -t1 -c16 -d20s --latency -s docs/perf/update.lua http://127.0.0.1:18702

local n = 0

local head = '{"accountId":"ACCOUNT_ID","bucketId":"4a48fe8875c6214145260818","bucketType":"allPublic",' ..
  '"bucketInfo":{"build":"'
local tail = '"},' ..
  '"corsRules":[{"corsRuleName":"downloadFromAnyOrigin","allowedOrigins":["https"],"allowedHeaders":["range"],' ..
  '"allowedOperations":["b2_download_file_by_id","b2_download_file_by_name"],"exposeHeaders":["x-bz-content-sha1"],"maxAgeSeconds":3600}],' ..
  '"defaultRetention":{"mode":"governance","period":{"duration":2,"unit":"years"}},' ..
  '"defaultServerSideEncryption":{"mode":"SSE-B2","algorithm":"AES256"},"fileLockEnabled":true,' ..
  '"lifecycleRules":[{"daysFromHidingToDeleting":30,"daysFromUploadingToHiding":null,"fileNamePrefix":"backup/'

request = function()
  n = n + 1
  local body = head .. n .. tail .. n .. '/"}],"ifRevisionIs":' .. n .. '}'
  return wrk.format("POST", "/b2api/v3/b2_update_bucket",
    {["Authorization"] = "4_demo_token", ["Content-Type"] = "application/json"}, body)
end

response = function(status, headers, body)
  if status ~= 200 then
    print("unexpected status " .. status .. ": " .. body)
    wrk.thread:stop()
  end
end
