module github.com/jira-cicd/jira-cicd

go 1.26.8
