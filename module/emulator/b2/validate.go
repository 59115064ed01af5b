package b2emulator

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Limits B2 places on bucket settings.
const (
	maxBucketsPerAccount = 100
	maxInfoEntries       = 10
	maxCORSRules         = 100
	maxCORSRuleBytes     = 1000
	maxLifecycleRules    = 100
	maxReplicationRules  = 2
	maxCORSMaxAgeSeconds = 86400
)

var (
	bucketNamePattern      = regexp.MustCompile(`^[A-Za-z0-9-]{6,63}$`)
	infoKeyPattern         = regexp.MustCompile(`^[A-Za-z0-9_-]{1,50}$`)
	corsRuleNamePattern    = regexp.MustCompile(`^[A-Za-z0-9-]{6,50}$`)
	replicationRulePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

var corsOperations = []string{
	"b2_download_file_by_name", "b2_download_file_by_id", "b2_upload_file", "b2_upload_part",
	"s3_delete", "s3_get", "s3_head", "s3_post", "s3_put",
}

var listableTypes = []string{"allPublic", "allPrivate", "snapshot", "shared", "restricted"}

// opt is a parameter that may be absent, as opposed to present with a zero
// value: an update changes exactly the settings it names.
type opt[T any] struct {
	set bool
	v   T
}

func some[T any](v T) opt[T] { return opt[T]{set: true, v: v} }

// changes are the settings a create or update names.
type changes struct {
	bucketType  opt[string]
	info        opt[map[string]string]
	cors        opt[[]corsRule]
	lifecycle   opt[[]lifecycleRule]
	encryption  opt[encryption]
	retention   opt[retention]
	fileLock    opt[bool]
	replication opt[*replication]
}

// writeCapabilities are what changing these settings needs: writeBuckets,
// plus the specific capability guarding each sensitive setting.
func (c changes) writeCapabilities() []string {
	caps := []string{"writeBuckets"}
	if c.encryption.set {
		caps = append(caps, "writeBucketEncryption")
	}
	if c.retention.set || (c.fileLock.set && c.fileLock.v) {
		caps = append(caps, "writeBucketRetentions")
	}
	if c.replication.set {
		caps = append(caps, "writeBucketReplications")
	}
	return caps
}

var settingFields = []string{
	"bucketType", "bucketInfo", "corsRules", "lifecycleRules", "defaultServerSideEncryption",
	"defaultRetention", "fileLockEnabled", "replicationConfiguration",
}

type updateRequest struct {
	accountID    opt[string]
	bucketID     string
	ifRevisionIs opt[int64]
	changes
}

func parseUpdate(f fields) (*updateRequest, *apiError) {
	if aerr := f.only("", append([]string{"accountId", "bucketId", "ifRevisionIs"}, settingFields...)...); aerr != nil {
		return nil, aerr
	}
	req := &updateRequest{}
	if _, ok := f.get("accountId"); ok {
		id, aerr := f.needString("", "accountId")
		if aerr != nil {
			return nil, aerr
		}
		req.accountID = some(id)
	}
	var aerr *apiError
	if req.bucketID, aerr = f.needString("", "bucketId"); aerr != nil {
		return nil, aerr
	}
	if v, ok := f.get("ifRevisionIs"); ok {
		rev, aerr := asInt(v, "ifRevisionIs")
		if aerr != nil {
			return nil, aerr
		}
		if rev < 0 {
			return nil, badRequest("ifRevisionIs must not be negative")
		}
		req.ifRevisionIs = some(rev)
	}
	req.changes, aerr = parseChanges(f)
	return req, aerr
}

type createRequest struct {
	accountID string
	name      string
	changes
}

func parseCreate(f fields) (*createRequest, *apiError) {
	if aerr := f.only("", append([]string{"accountId", "bucketName"}, settingFields...)...); aerr != nil {
		return nil, aerr
	}
	req := &createRequest{}
	var aerr *apiError
	if req.accountID, aerr = f.needString("", "accountId"); aerr != nil {
		return nil, aerr
	}
	if req.name, aerr = f.needString("", "bucketName"); aerr != nil {
		return nil, aerr
	}
	if msg := bucketNameProblem(req.name); msg != "" {
		return nil, badRequest("bucketName %s", msg)
	}
	if _, aerr = f.need("", "bucketType"); aerr != nil {
		return nil, aerr
	}
	req.changes, aerr = parseChanges(f)
	return req, aerr
}

type listRequest struct {
	accountID  string
	bucketID   string
	bucketName string
	types      []string // nil: B2's default selection
}

func parseList(f fields) (*listRequest, *apiError) {
	if aerr := f.only("", "accountId", "bucketId", "bucketName", "bucketTypes"); aerr != nil {
		return nil, aerr
	}
	req := &listRequest{}
	var aerr *apiError
	if req.accountID, aerr = f.needString("", "accountId"); aerr != nil {
		return nil, aerr
	}
	if req.bucketID, aerr = f.optString("", "bucketId"); aerr != nil {
		return nil, aerr
	}
	if req.bucketName, aerr = f.optString("", "bucketName"); aerr != nil {
		return nil, aerr
	}
	if req.types, aerr = f.optStrings("", "bucketTypes"); aerr != nil || req.types == nil {
		return req, aerr
	}
	switch {
	case len(req.types) == 0:
		return nil, badRequest("bucketTypes must not be empty")
	case slices.Contains(req.types, "all") && len(req.types) > 1:
		return nil, badRequest(`bucketTypes: "all" must be the only type`)
	}
	for i, t := range req.types {
		if t != "all" && !slices.Contains(listableTypes, t) {
			return nil, badRequest("bucketTypes[%d] must be all or one of %s", i, strings.Join(listableTypes, ", "))
		}
	}
	return req, nil
}

type deleteRequest struct {
	accountID string
	bucketID  string
}

func parseDelete(f fields) (*deleteRequest, *apiError) {
	if aerr := f.only("", "accountId", "bucketId"); aerr != nil {
		return nil, aerr
	}
	req := &deleteRequest{}
	var aerr *apiError
	if req.accountID, aerr = f.needString("", "accountId"); aerr != nil {
		return nil, aerr
	}
	req.bucketID, aerr = f.needString("", "bucketId")
	return req, aerr
}

// parseChanges reads the settings shared by create and update, in a fixed
// order so the first problem reported is always the same.
func parseChanges(f fields) (changes, *apiError) {
	var ch changes
	var aerr *apiError
	if v, ok := f.get("bucketType"); ok {
		t, aerr := asString(v, "bucketType")
		if aerr != nil {
			return ch, aerr
		}
		if t != "allPublic" && t != "allPrivate" {
			return ch, badRequest("bucketType must be allPublic or allPrivate")
		}
		ch.bucketType = some(t)
	}
	if v, ok := f.get("bucketInfo"); ok {
		if ch.info, aerr = parseInfo(v); aerr != nil {
			return ch, aerr
		}
	}
	if v, ok := f.get("corsRules"); ok {
		if ch.cors, aerr = parseCORSRules(v); aerr != nil {
			return ch, aerr
		}
	}
	if v, ok := f.get("lifecycleRules"); ok {
		if ch.lifecycle, aerr = parseLifecycleRules(v); aerr != nil {
			return ch, aerr
		}
	}
	if v, ok := f.get("defaultServerSideEncryption"); ok {
		if ch.encryption, aerr = parseEncryption(v); aerr != nil {
			return ch, aerr
		}
	}
	if v, ok := f.get("defaultRetention"); ok {
		if ch.retention, aerr = parseRetention(v); aerr != nil {
			return ch, aerr
		}
	}
	if v, ok := f.get("fileLockEnabled"); ok {
		b, aerr := asBool(v, "fileLockEnabled")
		if aerr != nil {
			return ch, aerr
		}
		ch.fileLock = some(b)
	}
	if v, ok := f.get("replicationConfiguration"); ok {
		if ch.replication, aerr = parseReplication(v); aerr != nil {
			return ch, aerr
		}
	}
	return ch, nil
}

func bucketNameProblem(name string) string {
	switch {
	case !bucketNamePattern.MatchString(name):
		return "must be 6 to 63 letters, digits or hyphens"
	case hasPrefixFold(name, "b2-"):
		return `must not start with "b2-"`
	}
	return ""
}

func infoKeyProblem(key string) string {
	switch {
	case !infoKeyPattern.MatchString(key):
		return "must be 1 to 50 letters, digits, hyphens or underscores"
	case hasPrefixFold(key, "b2-"):
		return `must not start with "b2-"`
	}
	return ""
}

func parseInfo(v any) (opt[map[string]string], *apiError) {
	obj, aerr := asObject(v, "bucketInfo")
	if aerr != nil {
		return opt[map[string]string]{}, aerr
	}
	if len(obj) > maxInfoEntries {
		return opt[map[string]string]{}, badRequest("bucketInfo has %d entries; at most %d are allowed", len(obj), maxInfoEntries)
	}
	info := make(map[string]string, len(obj))
	for _, k := range sortedKeys(obj) {
		if msg := infoKeyProblem(k); msg != "" {
			return opt[map[string]string]{}, badRequest("bucketInfo key %q %s", k, msg)
		}
		s, aerr := asString(obj[k], fmt.Sprintf("bucketInfo[%q]", k))
		if aerr != nil {
			return opt[map[string]string]{}, aerr
		}
		info[k] = s
	}
	return some(info), nil
}

func parseCORSRules(v any) (opt[[]corsRule], *apiError) {
	none := opt[[]corsRule]{}
	items, aerr := asArray(v, "corsRules")
	if aerr != nil {
		return none, aerr
	}
	if len(items) > maxCORSRules {
		return none, badRequest("corsRules has %d rules; at most %d are allowed", len(items), maxCORSRules)
	}
	rules := make([]corsRule, 0, len(items))
	names := make(map[string]bool)
	for i, item := range items {
		path := fmt.Sprintf("corsRules[%d]", i)
		rule, aerr := parseCORSRule(item, path)
		if aerr != nil {
			return none, aerr
		}
		if names[rule.Name] {
			return none, badRequest("%s.corsRuleName %q is used by an earlier rule", path, rule.Name)
		}
		names[rule.Name] = true
		rules = append(rules, rule)
	}
	return some(rules), nil
}

func parseCORSRule(v any, path string) (corsRule, *apiError) {
	var rule corsRule
	f, aerr := asObject(v, path)
	if aerr != nil {
		return rule, aerr
	}
	if aerr := f.only(path, "corsRuleName", "allowedOrigins", "allowedHeaders", "allowedOperations", "exposeHeaders", "maxAgeSeconds"); aerr != nil {
		return rule, aerr
	}
	if rule.Name, aerr = f.needString(path, "corsRuleName"); aerr != nil {
		return rule, aerr
	}
	if !corsRuleNamePattern.MatchString(rule.Name) || hasPrefixFold(rule.Name, "b2-") {
		return rule, badRequest(`%s.corsRuleName must be 6 to 50 letters, digits or hyphens, not starting with "b2-"`, path)
	}
	if rule.AllowedOrigins, aerr = requiredStrings(f, path, "allowedOrigins"); aerr != nil {
		return rule, aerr
	}
	if aerr := checkOrigins(rule.AllowedOrigins, path+".allowedOrigins"); aerr != nil {
		return rule, aerr
	}
	if rule.AllowedOperations, aerr = requiredStrings(f, path, "allowedOperations"); aerr != nil {
		return rule, aerr
	}
	for i, op := range rule.AllowedOperations {
		if !slices.Contains(corsOperations, op) {
			return rule, badRequest("%s.allowedOperations[%d] must be one of %s", path, i, strings.Join(corsOperations, ", "))
		}
	}
	if rule.AllowedHeaders, aerr = f.optStrings(path, "allowedHeaders"); aerr != nil {
		return rule, aerr
	}
	if aerr := checkAllowedHeaders(rule.AllowedHeaders, path+".allowedHeaders"); aerr != nil {
		return rule, aerr
	}
	if rule.ExposeHeaders, aerr = f.optStrings(path, "exposeHeaders"); aerr != nil {
		return rule, aerr
	}
	for i, h := range rule.ExposeHeaders {
		if !completeHeaderName(h) {
			return rule, badRequest("%s.exposeHeaders[%d] must be a complete header name", path, i)
		}
	}
	age, aerr := f.need(path, "maxAgeSeconds")
	if aerr != nil {
		return rule, aerr
	}
	if rule.MaxAgeSeconds, aerr = asInt(age, path+".maxAgeSeconds"); aerr != nil {
		return rule, aerr
	}
	if rule.MaxAgeSeconds < 0 || rule.MaxAgeSeconds > maxCORSMaxAgeSeconds {
		return rule, badRequest("%s.maxAgeSeconds must be between 0 and %d", path, maxCORSMaxAgeSeconds)
	}
	size := len(rule.Name)
	for _, list := range [][]string{rule.AllowedOrigins, rule.AllowedHeaders, rule.AllowedOperations, rule.ExposeHeaders} {
		for _, s := range list {
			size += len(s)
		}
	}
	if size >= maxCORSRuleBytes {
		return rule, badRequest("%s is %d bytes; a CORS rule must be under %d bytes", path, size, maxCORSRuleBytes)
	}
	return rule, nil
}

func requiredStrings(f fields, path, name string) ([]string, *apiError) {
	v, aerr := f.need(path, name)
	if aerr != nil {
		return nil, aerr
	}
	list, aerr := asStrings(v, join(path, name))
	if aerr == nil && len(list) == 0 {
		aerr = badRequest("%s must not be empty", join(path, name))
	}
	return list, aerr
}

func checkOrigins(origins []string, path string) *apiError {
	https := 0
	for i, o := range origins {
		switch {
		case o == "":
			return badRequest("%s[%d] must not be empty", path, i)
		case o == "*" && len(origins) > 1:
			return badRequest(`%s: "*" must be the only origin when present`, path)
		case strings.Count(o, "*") > 1:
			return badRequest("%s[%d] may contain at most one *", path, i)
		case o == "https":
			https++
			if https > 1 {
				return badRequest(`%s: "https" may appear only once`, path)
			}
		}
	}
	return nil
}

// checkAllowedHeaders applies B2's rule that "*", which allows every
// header, stands alone; the other entries are header names, or prefixes of
// them ending in "*".
func checkAllowedHeaders(headers []string, path string) *apiError {
	for i, h := range headers {
		switch {
		case h == "*" && len(headers) > 1:
			return badRequest(`%s: "*" must be the only header when present`, path)
		case h == "":
			return badRequest("%s[%d] must not be empty", path, i)
		}
	}
	return nil
}

// completeHeaderName reports whether h is an HTTP header name with no
// wildcard, as B2 wants the headers a CORS rule exposes.
func completeHeaderName(h string) bool {
	if h == "" {
		return false
	}
	for _, c := range h {
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.ContainsRune("!#$%&'+-.^_`|~", c)
		if !ok {
			return false
		}
	}
	return true
}

var lifecycleDayFields = []string{
	"daysFromHidingToDeleting", "daysFromUploadingToHiding", "daysFromStartingToCancelingUnfinishedLargeFiles",
}

func parseLifecycleRules(v any) (opt[[]lifecycleRule], *apiError) {
	none := opt[[]lifecycleRule]{}
	items, aerr := asArray(v, "lifecycleRules")
	if aerr != nil {
		return none, aerr
	}
	if len(items) > maxLifecycleRules {
		return none, badRequest("lifecycleRules has %d rules; at most %d are allowed", len(items), maxLifecycleRules)
	}
	rules := make([]lifecycleRule, 0, len(items))
	for i, item := range items {
		path := fmt.Sprintf("lifecycleRules[%d]", i)
		rule, aerr := parseLifecycleRule(item, path)
		if aerr != nil {
			return none, aerr
		}
		// Two rules may never apply to the same file.
		for j, earlier := range rules {
			if strings.HasPrefix(rule.FileNamePrefix, earlier.FileNamePrefix) || strings.HasPrefix(earlier.FileNamePrefix, rule.FileNamePrefix) {
				return none, badRequest("%s.fileNamePrefix %q overlaps lifecycleRules[%d].fileNamePrefix %q", path, rule.FileNamePrefix, j, earlier.FileNamePrefix)
			}
		}
		rules = append(rules, rule)
	}
	return some(rules), nil
}

func parseLifecycleRule(v any, path string) (lifecycleRule, *apiError) {
	var rule lifecycleRule
	f, aerr := asObject(v, path)
	if aerr != nil {
		return rule, aerr
	}
	if aerr := f.only(path, append([]string{"fileNamePrefix"}, lifecycleDayFields...)...); aerr != nil {
		return rule, aerr
	}
	prefix, aerr := f.need(path, "fileNamePrefix")
	if aerr != nil {
		return rule, aerr
	}
	if rule.FileNamePrefix, aerr = asString(prefix, path+".fileNamePrefix"); aerr != nil {
		return rule, aerr
	}
	days := []**int64{&rule.DaysFromHidingToDeleting, &rule.DaysFromUploadingToHiding, &rule.DaysFromStartingToCancelingUnfinishedLargeFiles}
	for i, name := range lifecycleDayFields {
		v, ok := f.get(name)
		if !ok {
			continue
		}
		n, aerr := asInt(v, join(path, name))
		if aerr == nil && n < 1 {
			aerr = badRequest("%s must be a positive integer or null", join(path, name))
		}
		if aerr != nil {
			return rule, aerr
		}
		*days[i] = &n
	}
	if rule.DaysFromHidingToDeleting == nil && rule.DaysFromUploadingToHiding == nil && rule.DaysFromStartingToCancelingUnfinishedLargeFiles == nil {
		return rule, badRequest("%s needs at least one of %s", path, strings.Join(lifecycleDayFields, ", "))
	}
	return rule, nil
}

func parseEncryption(v any) (opt[encryption], *apiError) {
	const path = "defaultServerSideEncryption"
	none := opt[encryption]{}
	f, aerr := asObject(v, path)
	if aerr != nil {
		return none, aerr
	}
	if aerr := f.only(path, "mode", "algorithm"); aerr != nil {
		return none, aerr
	}
	mode, aerr := modeOf(f, path)
	if aerr != nil {
		return none, aerr
	}
	switch mode {
	case "none", "SSE-B2":
	case "SSE-C":
		return none, badRequest("%s.mode SSE-C cannot be a bucket default", path)
	default:
		return none, badRequest("%s.mode must be SSE-B2, none or null", path)
	}
	algorithm, aerr := f.optString(path, "algorithm")
	if aerr != nil {
		return none, aerr
	}
	if _, set := f.get("algorithm"); set && algorithm != "AES256" {
		return none, badRequest("%s.algorithm must be AES256 or null", path)
	}
	if mode == "none" {
		return some(encryption{}), nil
	}
	if algorithm == "" {
		return none, badRequest("%s.algorithm must be AES256 when mode is SSE-B2", path)
	}
	m, a := "SSE-B2", "AES256"
	return some(encryption{Mode: &m, Algorithm: &a}), nil
}

func parseRetention(v any) (opt[retention], *apiError) {
	const path = "defaultRetention"
	none := opt[retention]{}
	f, aerr := asObject(v, path)
	if aerr != nil {
		return none, aerr
	}
	if aerr := f.only(path, "mode", "period"); aerr != nil {
		return none, aerr
	}
	mode, aerr := modeOf(f, path)
	if aerr != nil {
		return none, aerr
	}
	switch mode {
	case "none":
		if _, ok := f.get("period"); ok {
			return none, badRequest("%s.period must be null when mode is none or null", path)
		}
		return some(retention{}), nil
	case "governance", "compliance":
	default:
		return none, badRequest("%s.mode must be governance, compliance, none or null", path)
	}
	pv, aerr := f.need(path, "period")
	if aerr != nil {
		return none, aerr
	}
	pf, aerr := asObject(pv, path+".period")
	if aerr != nil {
		return none, aerr
	}
	if aerr := pf.only(path+".period", "duration", "unit"); aerr != nil {
		return none, aerr
	}
	dv, aerr := pf.need(path+".period", "duration")
	if aerr != nil {
		return none, aerr
	}
	duration, aerr := asInt(dv, path+".period.duration")
	if aerr == nil && duration < 1 {
		aerr = badRequest("%s.period.duration must be a positive integer", path)
	}
	if aerr != nil {
		return none, aerr
	}
	unit, aerr := pf.needString(path+".period", "unit")
	if aerr != nil {
		return none, aerr
	}
	if unit != "days" && unit != "years" {
		return none, badRequest("%s.period.unit must be days or years", path)
	}
	return some(retention{Mode: &mode, Period: &period{Duration: duration, Unit: unit}}), nil
}

// modeOf reads the mode of an encryption or retention setting. It must be
// present, and null turns the setting off just as "none" does.
func modeOf(f fields, path string) (string, *apiError) {
	v, present := f["mode"]
	switch {
	case !present:
		return "", badRequest("%s.mode is required", path)
	case v == nil:
		return "none", nil
	}
	return asString(v, path+".mode")
}

func parseReplication(v any) (opt[*replication], *apiError) {
	const path = "replicationConfiguration"
	none := opt[*replication]{}
	f, aerr := asObject(v, path)
	if aerr != nil {
		return none, aerr
	}
	if aerr := f.only(path, "asReplicationSource", "asReplicationDestination"); aerr != nil {
		return none, aerr
	}
	_, hasSource := f["asReplicationSource"]
	_, hasDestination := f["asReplicationDestination"]
	if !hasSource && !hasDestination {
		return none, badRequest("%s needs asReplicationSource or asReplicationDestination (null clears it)", path)
	}
	r := &replication{}
	if sv, ok := f.get("asReplicationSource"); ok {
		if r.AsReplicationSource, aerr = parseReplicationSource(sv, path+".asReplicationSource"); aerr != nil {
			return none, aerr
		}
	}
	if dv, ok := f.get("asReplicationDestination"); ok {
		if r.AsReplicationDestination, aerr = parseReplicationDestination(dv, path+".asReplicationDestination"); aerr != nil {
			return none, aerr
		}
	}
	// B2 reports a configuration with neither side as a null value.
	if r.AsReplicationSource == nil && r.AsReplicationDestination == nil {
		return some[*replication](nil), nil
	}
	return some(r), nil
}

func parseReplicationSource(v any, path string) (*replicationSource, *apiError) {
	f, aerr := asObject(v, path)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := f.only(path, "replicationRules", "sourceApplicationKeyId"); aerr != nil {
		return nil, aerr
	}
	src := &replicationSource{}
	if src.SourceApplicationKeyID, aerr = f.needString(path, "sourceApplicationKeyId"); aerr != nil {
		return nil, aerr
	}
	rv, aerr := f.need(path, "replicationRules")
	if aerr != nil {
		return nil, aerr
	}
	items, aerr := asArray(rv, path+".replicationRules")
	if aerr != nil {
		return nil, aerr
	}
	if len(items) > maxReplicationRules {
		return nil, badRequest("%s.replicationRules may hold at most %d rules", path, maxReplicationRules)
	}
	names := make(map[string]bool)
	for i, item := range items {
		rule, aerr := parseReplicationRule(item, fmt.Sprintf("%s.replicationRules[%d]", path, i))
		if aerr != nil {
			return nil, aerr
		}
		if names[rule.ReplicationRuleName] {
			return nil, badRequest("%s.replicationRules[%d].replicationRuleName %q is used by an earlier rule", path, i, rule.ReplicationRuleName)
		}
		names[rule.ReplicationRuleName] = true
		src.ReplicationRules = append(src.ReplicationRules, rule)
	}
	return src, nil
}

func parseReplicationRule(v any, path string) (replicationRule, *apiError) {
	// Defaults are b2sdk's for the optional fields.
	rule := replicationRule{IsEnabled: true, Priority: 128}
	f, aerr := asObject(v, path)
	if aerr != nil {
		return rule, aerr
	}
	if aerr := f.only(path, "destinationBucketId", "fileNamePrefix", "includeExistingFiles", "isEnabled", "priority", "replicationRuleName"); aerr != nil {
		return rule, aerr
	}
	if rule.DestinationBucketID, aerr = f.needString(path, "destinationBucketId"); aerr != nil {
		return rule, aerr
	}
	if rule.ReplicationRuleName, aerr = f.needString(path, "replicationRuleName"); aerr != nil {
		return rule, aerr
	}
	if !replicationRulePattern.MatchString(rule.ReplicationRuleName) {
		return rule, badRequest("%s.replicationRuleName must be 1 to 64 letters, digits, hyphens or underscores", path)
	}
	if rule.FileNamePrefix, aerr = f.optString(path, "fileNamePrefix"); aerr != nil {
		return rule, aerr
	}
	for _, flag := range []struct {
		name string
		dst  *bool
	}{{"includeExistingFiles", &rule.IncludeExistingFiles}, {"isEnabled", &rule.IsEnabled}} {
		if bv, ok := f.get(flag.name); ok {
			if *flag.dst, aerr = asBool(bv, join(path, flag.name)); aerr != nil {
				return rule, aerr
			}
		}
	}
	if pv, ok := f.get("priority"); ok {
		if rule.Priority, aerr = asInt(pv, path+".priority"); aerr != nil {
			return rule, aerr
		}
		if rule.Priority < 1 || rule.Priority > 2147483647 {
			return rule, badRequest("%s.priority must be between 1 and 2147483647", path)
		}
	}
	return rule, nil
}

func parseReplicationDestination(v any, path string) (*replicationDestination, *apiError) {
	f, aerr := asObject(v, path)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := f.only(path, "sourceToDestinationKeyMapping"); aerr != nil {
		return nil, aerr
	}
	// B2 documents no minimum: an absent or empty mapping maps no key.
	mf := fields{}
	if mv, ok := f.get("sourceToDestinationKeyMapping"); ok {
		if mf, aerr = asObject(mv, path+".sourceToDestinationKeyMapping"); aerr != nil {
			return nil, aerr
		}
	}
	mapping := make(map[string]string, len(mf))
	for _, k := range sortedKeys(mf) {
		s, aerr := asString(mf[k], fmt.Sprintf("%s.sourceToDestinationKeyMapping[%q]", path, k))
		if aerr == nil && (s == "" || k == "") {
			aerr = badRequest("%s.sourceToDestinationKeyMapping entries must map a key id to a key id", path)
		}
		if aerr != nil {
			return nil, aerr
		}
		mapping[k] = s
	}
	return &replicationDestination{SourceToDestinationKeyMapping: mapping}, nil
}
