package cli

import (
	"maps"
	"testing"
)

// TestDetectCI: each provider is recognised from its documented
// environment variables and records the CI/CD semantic-convention
// attributes it knows.
func TestDetectCI(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want map[string]string
	}{
		{name: "none", env: map[string]string{"CI": "true", "HOME": "/root"}},
		{name: "GitHub Actions",
			env: map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_WORKFLOW": "CI", "GITHUB_RUN_ID": "1234", "GITHUB_RUN_ATTEMPT": "2",
				"GITHUB_REPOSITORY": "octo/repo", "GITHUB_SHA": "abc", "GITHUB_REF_NAME": "main", "GITHUB_JOB": "test"},
			want: map[string]string{"ci.provider": "github_actions", "cicd.pipeline.name": "CI", "cicd.pipeline.run.id": "1234",
				"cicd.pipeline.run.url.full": "https://github.com/octo/repo/actions/runs/1234/attempts/2", "cicd.pipeline.task.name": "test",
				"vcs.ref.head.revision": "abc", "vcs.ref.head.name": "main", "vcs.repository.url.full": "https://github.com/octo/repo",
				"github.repository": "octo/repo", "github.run_attempt": "2"}},
		{name: "GitLab CI",
			env: map[string]string{"GITLAB_CI": "true", "CI_PIPELINE_NAME": "nightly", "CI_PIPELINE_ID": "77", "CI_PIPELINE_URL": "https://gitlab.com/g/p/-/pipelines/77",
				"CI_COMMIT_SHA": "abc", "CI_COMMIT_REF_NAME": "main", "CI_PROJECT_URL": "https://gitlab.com/g/p", "CI_PROJECT_PATH": "g/p"},
			want: map[string]string{"ci.provider": "gitlab_ci", "cicd.pipeline.name": "nightly", "cicd.pipeline.run.id": "77",
				"cicd.pipeline.run.url.full": "https://gitlab.com/g/p/-/pipelines/77", "vcs.ref.head.revision": "abc", "vcs.ref.head.name": "main",
				"vcs.repository.url.full": "https://gitlab.com/g/p", "gitlab.project.path": "g/p"}},
		{name: "CircleCI",
			env: map[string]string{"CI": "true", "CIRCLECI": "true", "CIRCLE_PROJECT_USERNAME": "octo", "CIRCLE_PROJECT_REPONAME": "repo",
				"CIRCLE_WORKFLOW_ID": "wf-1", "CIRCLE_JOB": "test", "CIRCLE_BUILD_NUM": "42", "CIRCLE_BUILD_URL": "https://circleci.com/gh/octo/repo/42",
				"CIRCLE_SHA1": "abc", "CIRCLE_BRANCH": "main", "CIRCLE_REPOSITORY_URL": "git@github.com:octo/repo.git"},
			want: map[string]string{"ci.provider": "circleci", "cicd.pipeline.name": "octo/repo", "cicd.pipeline.run.id": "wf-1",
				"cicd.pipeline.task.name": "test", "cicd.pipeline.task.run.id": "42", "cicd.pipeline.task.run.url.full": "https://circleci.com/gh/octo/repo/42",
				"vcs.ref.head.revision": "abc", "vcs.ref.head.name": "main", "vcs.repository.url.full": "git@github.com:octo/repo.git"}},
		{name: "Buildkite",
			env: map[string]string{"BUILDKITE": "true", "BUILDKITE_PIPELINE_SLUG": "deploy", "BUILDKITE_BUILD_ID": "b-uuid", "BUILDKITE_BUILD_NUMBER": "9",
				"BUILDKITE_BUILD_URL": "https://buildkite.com/acme/deploy/builds/9", "BUILDKITE_LABEL": ":go: test", "BUILDKITE_JOB_ID": "j-uuid",
				"BUILDKITE_COMMIT": "abc", "BUILDKITE_BRANCH": "main", "BUILDKITE_REPO": "https://github.com/acme/deploy.git"},
			want: map[string]string{"ci.provider": "buildkite", "cicd.pipeline.name": "deploy", "cicd.pipeline.run.id": "b-uuid",
				"cicd.pipeline.run.url.full": "https://buildkite.com/acme/deploy/builds/9", "cicd.pipeline.task.name": ":go: test",
				"cicd.pipeline.task.run.id": "j-uuid", "vcs.ref.head.revision": "abc", "vcs.ref.head.name": "main",
				"vcs.repository.url.full": "https://github.com/acme/deploy.git", "buildkite.build.number": "9"}},
		{name: "Azure Pipelines",
			env: map[string]string{"TF_BUILD": "True", "BUILD_DEFINITIONNAME": "app-ci", "BUILD_BUILDID": "321",
				"SYSTEM_COLLECTIONURI": "https://dev.azure.com/acme/", "SYSTEM_TEAMPROJECT": "app", "SYSTEM_JOBDISPLAYNAME": "Build",
				"BUILD_SOURCEVERSION": "abc", "BUILD_SOURCEBRANCHNAME": "main", "BUILD_REPOSITORY_URI": "https://dev.azure.com/acme/app/_git/app"},
			want: map[string]string{"ci.provider": "azure_pipelines", "cicd.pipeline.name": "app-ci", "cicd.pipeline.run.id": "321",
				"cicd.pipeline.run.url.full": "https://dev.azure.com/acme/app/_build/results?buildId=321", "cicd.pipeline.task.name": "Build",
				"vcs.ref.head.revision": "abc", "vcs.ref.head.name": "main", "vcs.repository.url.full": "https://dev.azure.com/acme/app/_git/app"}},
		{name: "Bitbucket Pipelines",
			env: map[string]string{"CI": "true", "BITBUCKET_BUILD_NUMBER": "15", "BITBUCKET_REPO_FULL_NAME": "acme/app", "BITBUCKET_COMMIT": "abc",
				"BITBUCKET_BRANCH": "main", "BITBUCKET_GIT_HTTP_ORIGIN": "http://bitbucket.org/acme/app", "BITBUCKET_PIPELINE_UUID": "{p}"},
			want: map[string]string{"ci.provider": "bitbucket_pipelines", "cicd.pipeline.name": "acme/app", "cicd.pipeline.run.id": "15",
				"cicd.pipeline.run.url.full": "https://bitbucket.org/acme/app/pipelines/results/15", "vcs.ref.head.revision": "abc",
				"vcs.ref.head.name": "main", "vcs.repository.url.full": "http://bitbucket.org/acme/app", "bitbucket.pipeline.uuid": "{p}"}},
		{name: "Travis CI pull request",
			env: map[string]string{"TRAVIS": "true", "TRAVIS_REPO_SLUG": "octo/repo", "TRAVIS_BUILD_ID": "555", "TRAVIS_BUILD_WEB_URL": "https://app.travis-ci.com/octo/repo/builds/555",
				"TRAVIS_JOB_ID": "556", "TRAVIS_COMMIT": "abc", "TRAVIS_BRANCH": "main", "TRAVIS_PULL_REQUEST_BRANCH": "fix"},
			want: map[string]string{"ci.provider": "travis_ci", "cicd.pipeline.name": "octo/repo", "cicd.pipeline.run.id": "555",
				"cicd.pipeline.run.url.full": "https://app.travis-ci.com/octo/repo/builds/555", "cicd.pipeline.task.run.id": "556",
				"vcs.ref.head.revision": "abc", "vcs.ref.head.name": "fix"}},
		{name: "Jenkins (BUILD_ID is not Cloud Build)",
			env: map[string]string{"JENKINS_URL": "https://ci.acme/", "BUILD_ID": "12", "PROJECT_ID": "x", "JOB_NAME": "app/main", "BUILD_NUMBER": "12",
				"BUILD_URL": "https://ci.acme/job/app/job/main/12/", "GIT_COMMIT": "abc", "GIT_BRANCH": "origin/main", "GIT_URL": "https://github.com/acme/app.git"},
			want: map[string]string{"ci.provider": "jenkins", "cicd.pipeline.name": "app/main", "cicd.pipeline.run.id": "12",
				"cicd.pipeline.run.url.full": "https://ci.acme/job/app/job/main/12/", "vcs.ref.head.revision": "abc", "vcs.ref.head.name": "origin/main",
				"vcs.repository.url.full": "https://github.com/acme/app.git"}},
		{name: "Google Cloud Build",
			env: map[string]string{"BUILD_ID": "b-1", "PROJECT_ID": "acme-prod", "LOCATION": "europe-west1", "TRIGGER_NAME": "on-push",
				"COMMIT_SHA": "abc", "BRANCH_NAME": "main"},
			want: map[string]string{"ci.provider": "google_cloud_build", "cicd.pipeline.name": "on-push", "cicd.pipeline.run.id": "b-1",
				"cicd.pipeline.run.url.full": "https://console.cloud.google.com/cloud-build/builds;region=europe-west1/b-1?project=acme-prod",
				"vcs.ref.head.revision":      "abc", "vcs.ref.head.name": "main", "gcp.project_id": "acme-prod"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := detectCI(func(k string) string { return tt.env[k] })
			if !maps.Equal(got, tt.want) {
				t.Errorf("detectCI\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}
