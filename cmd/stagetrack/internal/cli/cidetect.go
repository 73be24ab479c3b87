package cli

import (
	"encoding/json"
	"sort"
	"strings"

	"go.opentelemetry.io/otel/attribute"

	"github.com/stage-tracker/stage-tracker/setup"
)

// The CI providers stagetrack recognises, each from the environment
// variables its documentation promises (the value of ci.provider):
//
//	GitHub Actions       https://docs.github.com/en/actions/reference/variables-reference
//	GitLab CI            https://docs.gitlab.com/ci/variables/predefined_variables/
//	CircleCI             https://circleci.com/docs/reference/variables/
//	Buildkite            https://buildkite.com/docs/pipelines/configure/environment-variables
//	Azure Pipelines      https://learn.microsoft.com/azure/devops/pipelines/build/variables
//	Bitbucket Pipelines  https://support.atlassian.com/bitbucket-cloud/docs/variables-and-secrets/
//	Travis CI            https://docs.travis-ci.com/user/environment-variables/
//	Jenkins              https://www.jenkins.io/doc/book/pipeline/jenkins-file/#using-environment-variables
//	Google Cloud Build   https://cloud.google.com/build/docs/configuring-builds/substitute-variable-values
//
// Cloud Build passes its default substitutions to steps only when the
// build maps them (options.automapSubstitutions, or env: [BUILD_ID=$BUILD_ID…]).
const (
	providerGitHub     = "github_actions"
	providerGitLab     = "gitlab_ci"
	providerCircleCI   = "circleci"
	providerBuildkite  = "buildkite"
	providerAzure      = "azure_pipelines"
	providerBitbucket  = "bitbucket_pipelines"
	providerTravis     = "travis_ci"
	providerJenkins    = "jenkins"
	providerCloudBuild = "google_cloud_build"
)

// ciProvider is one CI system: whether the environment is its job, and
// the attributes it records.
type ciProvider struct {
	name   string
	detect func(getenv func(string) string) bool
	attrs  func(getenv func(string) string, set func(k, v string))
}

// ciProviders are the providers in the order they are tried: Jenkins
// before Cloud Build, since both have BUILD_ID.
func ciProviders() []ciProvider {
	return []ciProvider{
		{providerGitHub, isTrue("GITHUB_ACTIONS"), gitHubAttrs},
		{providerGitLab, isTrue("GITLAB_CI"), gitLabAttrs},
		{providerCircleCI, isTrue("CIRCLECI"), circleCIAttrs},
		{providerBuildkite, isTrue("BUILDKITE"), buildkiteAttrs},
		{providerAzure, isTrue("TF_BUILD"), azureAttrs},
		{providerBitbucket, isSet("BITBUCKET_BUILD_NUMBER"), bitbucketAttrs},
		{providerTravis, isTrue("TRAVIS"), travisAttrs},
		{providerJenkins, isSet("JENKINS_URL"), jenkinsAttrs},
		{providerCloudBuild, func(getenv func(string) string) bool {
			return getenv("BUILD_ID") != "" && getenv("PROJECT_ID") != ""
		}, cloudBuildAttrs},
	}
}

func isTrue(k string) func(func(string) string) bool {
	return func(getenv func(string) string) bool { return strings.EqualFold(getenv(k), "true") }
}

func isSet(k string) func(func(string) string) bool {
	return func(getenv func(string) string) bool { return getenv(k) != "" }
}

// detectCI returns the attributes of the CI job stagetrack runs in, keyed
// by OpenTelemetry attribute name (ci.provider, the CI/CD semantic
// conventions' cicd.* and vcs.*, and the provider's own), or nil outside a
// CI system it knows.
func detectCI(getenv func(string) string) map[string]string {
	for _, p := range ciProviders() {
		if !p.detect(getenv) {
			continue
		}
		m := map[string]string{"ci.provider": p.name}
		p.attrs(getenv, func(k, v string) {
			if v != "" {
				m[k] = v
			}
		})
		return m
	}
	return nil
}

func gitHubAttrs(getenv func(string) string, set func(k, v string)) {
	server, repo, runID, attempt := getenv("GITHUB_SERVER_URL"), getenv("GITHUB_REPOSITORY"), getenv("GITHUB_RUN_ID"), getenv("GITHUB_RUN_ATTEMPT")
	if server == "" {
		server = "https://github.com"
	}
	set("cicd.pipeline.name", getenv("GITHUB_WORKFLOW"))
	set("cicd.pipeline.run.id", runID)
	set("cicd.pipeline.task.name", getenv("GITHUB_JOB"))
	set("vcs.ref.head.revision", getenv("GITHUB_SHA"))
	set("vcs.ref.head.name", getenv("GITHUB_REF_NAME"))
	set("github.repository", repo)
	set("github.run_attempt", attempt)
	set("github.run_number", getenv("GITHUB_RUN_NUMBER"))
	set("github.actor", getenv("GITHUB_ACTOR"))
	if repo != "" {
		set("vcs.repository.url.full", server+"/"+repo)
		if runID != "" {
			url := server + "/" + repo + "/actions/runs/" + runID
			if attempt != "" {
				url += "/attempts/" + attempt
			}
			set("cicd.pipeline.run.url.full", url)
		}
	}
}

func gitLabAttrs(getenv func(string) string, set func(k, v string)) {
	name := getenv("CI_PIPELINE_NAME")
	if name == "" {
		name = getenv("CI_PROJECT_PATH")
	}
	set("cicd.pipeline.name", name)
	set("cicd.pipeline.run.id", getenv("CI_PIPELINE_ID"))
	set("cicd.pipeline.run.url.full", getenv("CI_PIPELINE_URL"))
	set("cicd.pipeline.task.name", getenv("CI_JOB_NAME"))
	set("cicd.pipeline.task.run.id", getenv("CI_JOB_ID"))
	set("cicd.pipeline.task.run.url.full", getenv("CI_JOB_URL"))
	set("vcs.ref.head.revision", getenv("CI_COMMIT_SHA"))
	set("vcs.ref.head.name", getenv("CI_COMMIT_REF_NAME"))
	set("vcs.repository.url.full", getenv("CI_PROJECT_URL"))
	set("gitlab.project.path", getenv("CI_PROJECT_PATH"))
}

// CircleCI has no environment variable for a workflow's name or web page:
// the pipeline is named by its project, and the job's page is known.
func circleCIAttrs(getenv func(string) string, set func(k, v string)) {
	if user, repo := getenv("CIRCLE_PROJECT_USERNAME"), getenv("CIRCLE_PROJECT_REPONAME"); user != "" && repo != "" {
		set("cicd.pipeline.name", user+"/"+repo)
	}
	set("cicd.pipeline.run.id", getenv("CIRCLE_WORKFLOW_ID"))
	set("cicd.pipeline.task.name", getenv("CIRCLE_JOB"))
	set("cicd.pipeline.task.run.id", getenv("CIRCLE_BUILD_NUM"))
	set("cicd.pipeline.task.run.url.full", getenv("CIRCLE_BUILD_URL"))
	set("vcs.ref.head.revision", getenv("CIRCLE_SHA1"))
	set("vcs.ref.head.name", orDefault(getenv("CIRCLE_BRANCH"), getenv("CIRCLE_TAG")))
	set("vcs.repository.url.full", getenv("CIRCLE_REPOSITORY_URL"))
}

func buildkiteAttrs(getenv func(string) string, set func(k, v string)) {
	set("cicd.pipeline.name", getenv("BUILDKITE_PIPELINE_SLUG"))
	set("cicd.pipeline.run.id", getenv("BUILDKITE_BUILD_ID"))
	set("cicd.pipeline.run.url.full", getenv("BUILDKITE_BUILD_URL"))
	set("cicd.pipeline.task.name", getenv("BUILDKITE_LABEL"))
	set("cicd.pipeline.task.run.id", getenv("BUILDKITE_JOB_ID"))
	set("vcs.ref.head.revision", getenv("BUILDKITE_COMMIT"))
	set("vcs.ref.head.name", getenv("BUILDKITE_BRANCH"))
	set("vcs.repository.url.full", getenv("BUILDKITE_REPO"))
	set("buildkite.build.number", getenv("BUILDKITE_BUILD_NUMBER"))
}

// Azure Pipelines' variables reach the environment upper-cased, dots as
// underscores (Build.BuildId is BUILD_BUILDID).
func azureAttrs(getenv func(string) string, set func(k, v string)) {
	id := getenv("BUILD_BUILDID")
	set("cicd.pipeline.name", getenv("BUILD_DEFINITIONNAME"))
	set("cicd.pipeline.run.id", id)
	if coll, proj := getenv("SYSTEM_COLLECTIONURI"), getenv("SYSTEM_TEAMPROJECT"); coll != "" && proj != "" && id != "" {
		set("cicd.pipeline.run.url.full", strings.TrimSuffix(coll, "/")+"/"+proj+"/_build/results?buildId="+id)
	}
	set("cicd.pipeline.task.name", getenv("SYSTEM_JOBDISPLAYNAME"))
	set("cicd.pipeline.task.run.id", getenv("SYSTEM_JOBID"))
	set("vcs.ref.head.revision", getenv("BUILD_SOURCEVERSION"))
	set("vcs.ref.head.name", getenv("BUILD_SOURCEBRANCHNAME"))
	set("vcs.repository.url.full", getenv("BUILD_REPOSITORY_URI"))
}

func bitbucketAttrs(getenv func(string) string, set func(k, v string)) {
	repo, num := getenv("BITBUCKET_REPO_FULL_NAME"), getenv("BITBUCKET_BUILD_NUMBER")
	set("cicd.pipeline.name", repo)
	set("cicd.pipeline.run.id", num)
	if repo != "" {
		set("cicd.pipeline.run.url.full", "https://bitbucket.org/"+repo+"/pipelines/results/"+num)
	}
	set("cicd.pipeline.task.run.id", getenv("BITBUCKET_STEP_UUID"))
	set("vcs.ref.head.revision", getenv("BITBUCKET_COMMIT"))
	set("vcs.ref.head.name", orDefault(getenv("BITBUCKET_BRANCH"), getenv("BITBUCKET_TAG")))
	set("vcs.repository.url.full", getenv("BITBUCKET_GIT_HTTP_ORIGIN"))
	set("bitbucket.pipeline.uuid", getenv("BITBUCKET_PIPELINE_UUID"))
}

// Travis CI names the pull request's branch apart from the branch it
// merges into (TRAVIS_BRANCH then).
func travisAttrs(getenv func(string) string, set func(k, v string)) {
	set("cicd.pipeline.name", getenv("TRAVIS_REPO_SLUG"))
	set("cicd.pipeline.run.id", getenv("TRAVIS_BUILD_ID"))
	set("cicd.pipeline.run.url.full", getenv("TRAVIS_BUILD_WEB_URL"))
	set("cicd.pipeline.task.name", getenv("TRAVIS_JOB_NAME"))
	set("cicd.pipeline.task.run.id", getenv("TRAVIS_JOB_ID"))
	set("cicd.pipeline.task.run.url.full", getenv("TRAVIS_JOB_WEB_URL"))
	set("vcs.ref.head.revision", getenv("TRAVIS_COMMIT"))
	set("vcs.ref.head.name", orDefault(getenv("TRAVIS_PULL_REQUEST_BRANCH"), getenv("TRAVIS_BRANCH")))
}

// Jenkins' GIT_* variables come from its Git plugin, when the job checks
// out with it.
func jenkinsAttrs(getenv func(string) string, set func(k, v string)) {
	set("cicd.pipeline.name", getenv("JOB_NAME"))
	set("cicd.pipeline.run.id", getenv("BUILD_NUMBER"))
	set("cicd.pipeline.run.url.full", getenv("BUILD_URL"))
	set("cicd.pipeline.task.name", getenv("STAGE_NAME"))
	set("vcs.ref.head.revision", getenv("GIT_COMMIT"))
	set("vcs.ref.head.name", orDefault(getenv("BRANCH_NAME"), getenv("GIT_BRANCH")))
	set("vcs.repository.url.full", getenv("GIT_URL"))
}

func cloudBuildAttrs(getenv func(string) string, set func(k, v string)) {
	id, project := getenv("BUILD_ID"), getenv("PROJECT_ID")
	set("cicd.pipeline.name", getenv("TRIGGER_NAME"))
	set("cicd.pipeline.run.id", id)
	url := "https://console.cloud.google.com/cloud-build/builds/" + id + "?project=" + project
	if loc := getenv("LOCATION"); loc != "" {
		url = "https://console.cloud.google.com/cloud-build/builds;region=" + loc + "/" + id + "?project=" + project
	}
	set("cicd.pipeline.run.url.full", url)
	set("vcs.ref.head.revision", getenv("COMMIT_SHA"))
	set("vcs.ref.head.name", orDefault(getenv("BRANCH_NAME"), getenv("TAG_NAME")))
	set("gcp.project_id", project)
}

// ciResource is the setup option that puts the CI attributes on the
// resource of every span this process exports (the run span among them);
// nil when there are none.
func ciResource(ci map[string]string) []setup.Option {
	if len(ci) == 0 {
		return nil
	}
	keys := sortedKeys(ci)
	attrs := make([]attribute.KeyValue, 0, len(keys))
	for _, k := range keys {
		attrs = append(attrs, attribute.String(k, ci[k]))
	}
	return []setup.Option{setup.WithResourceAttributes(attrs...)}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// withCIArgs returns the run's args with the CI attributes under "ci", when
// args is a JSON object or absent; other args are left as they are.
func withCIArgs(args json.RawMessage, ci map[string]string) json.RawMessage {
	if len(ci) == 0 {
		return args
	}
	obj := map[string]json.RawMessage{}
	if len(args) > 0 && string(args) != "null" {
		if json.Unmarshal(args, &obj) != nil || obj == nil {
			return args
		}
	}
	b, _ := json.Marshal(ci)
	obj["ci"] = b
	out, err := json.Marshal(obj)
	if err != nil {
		return args
	}
	return out
}
