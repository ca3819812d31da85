package settings

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Row describes one setting, read from the tags of Settings.
type Row struct {
	Name    string // snake_case, as in action.yml
	Default string // envDefault, the literal default
	Doc     string // what the docs say about the default when it is derived
	Help    string
	Group   string
	Bool    bool
	List    bool
	Secret  bool
	field   string
}

// Flag is the command-line flag: --name with underscores as dashes.
func (r Row) Flag() string { return "--" + strings.ReplaceAll(r.Name, "_", "-") }

// EnvNames are the variables read for the setting, in order of precedence
// after the flag.
func (r Row) EnvNames() []string {
	u := strings.ToUpper(r.Name)
	return []string{"INPUT_" + u, "PLUGIN_" + u, "JIRA_" + u}
}

// DefaultText is what docs show as the default.
func (r Row) DefaultText() string {
	if r.Doc != "" {
		return r.Doc
	}
	return r.Default
}

// Table returns every setting, in declaration order.
func Table() []Row { return table }

var table = buildTable()

func buildTable() []Row {
	t := reflect.TypeOf(Settings{})
	rows := make([]Row, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := f.Tag.Get("env")
		if name == "" {
			panic(fmt.Sprintf("settings: field %s has no env tag", f.Name))
		}
		rows = append(rows, Row{
			Name:    name,
			Default: f.Tag.Get("envDefault"),
			Doc:     f.Tag.Get("doc"),
			Help:    f.Tag.Get("help"),
			Group:   f.Tag.Get("group"),
			Bool:    f.Type.Kind() == reflect.Bool,
			List:    f.Type == reflect.TypeOf(List{}),
			Secret:  f.Type == reflect.TypeOf(Secret("")),
			field:   f.Name,
		})
	}
	return rows
}

func rowByField(field string) (Row, bool) {
	i := slices.IndexFunc(table, func(r Row) bool { return r.field == field })
	if i < 0 {
		return Row{}, false
	}
	return table[i], true
}

// kindOf describes the accepted values of a setting for error messages.
func kindOf(field string) string {
	f, _ := reflect.TypeOf(Settings{}).FieldByName(field)
	switch f.Type {
	case reflect.TypeOf(time.Duration(0)):
		return "a Go duration such as 30s, 5m or 1h30m"
	case reflect.TypeOf(true):
		return "true or false"
	case reflect.TypeOf(0):
		return "a whole number"
	}
	return "a valid value"
}
