/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * demo-generate.c: the made-up county registry (demo-generate.h).
 *
 * Every draw comes from the generator's own GRand in a fixed order, so a
 * seed gives the same bytes on every machine. A household is drawn whole:
 * its size (1 to 7, about 4 on average), the head's age (older heads for
 * larger households), then its members by relation: spouse of a similar
 * age, children 20 to 40 years younger than the head, grandchildren of a
 * head of 48 or more, the head's parents for a head of 60 or less. Each
 * member's birth date follows from the age, the sex from the relation
 * (sons and daughters) or a draw, and the ID number's order code from the
 * sex; an ID number already given is drawn again.
 */
#define G_LOG_DOMAIN "hearth-demo"

#include "demo-generate.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <string.h>

G_DEFINE_QUARK (hearth-demo-error-quark, hearth_demo_error)

/* Real villages of Balin Left Banner (巴林左旗, 150422), Chifeng,
 * Inner Mongolia: the national statistics bureau's division codes (2023).
 * Typed in as facts; the weight is how many households a village gets
 * relative to the others. */
static const struct {
  const char *code;
  const char *name;
  guint weight;
} villages[] = {
  /* 隆昌镇 (Longchang town, 150422101) */
  { "150422101201", "隆兴村", 3 },
  { "150422101202", "隆发村", 2 },
  { "150422101203", "大庙村", 2 },
  { "150422101204", "南湾子村", 1 },
  { "150422101205", "双胜村", 2 },
  { "150422101206", "南福山村", 1 },
  { "150422101207", "隆胜村", 2 },
  /* 十三敖包镇 (Shisan'aobao town, 150422102) */
  { "150422102201", "乌登村", 2 },
  { "150422102202", "东风村", 3 },
  { "150422102203", "潘家段村", 1 },
  { "150422102204", "五号村", 2 },
  { "150422102205", "西沟村", 1 },
  { "150422102206", "五星村", 2 },
  { "150422102207", "丰水山村", 1 },
  /* 三山乡 (Sanshan township, 150422202) */
  { "150422202201", "胡都格村", 1 },
  { "150422202202", "烧锅窑村", 2 },
  { "150422202203", "新立村", 2 },
  { "150422202204", "南沟村", 1 },
  { "150422202205", "温都好树村", 1 },
  { "150422202206", "三山村", 3 },
};

/* The townships of those villages (the comments above), as facts too. */
static const struct {
  const char *code;
  const char *name;
} townships[] = {
  { "150422101", "隆昌镇" },
  { "150422102", "十三敖包镇" },
  { "150422202", "三山乡" },
};

static const char *const village_codes[] = {
  "150422101201", "150422101202", "150422101203", "150422101204", "150422101205", "150422101206", "150422101207",
  "150422102201", "150422102202", "150422102203", "150422102204", "150422102205", "150422102206", "150422102207",
  "150422202201", "150422202202", "150422202203", "150422202204", "150422202205", "150422202206", NULL,
};

/* Neighbouring counties of the same prefecture (Chifeng), where some
 * spouses were born: 阿鲁科尔沁旗, 巴林右旗, 林西县. */
static const char *const neighbour_counties[] = { "150421", "150423", "150424" };

/* Common surnames, most frequent first, with rough relative weights. */
static const struct {
  const char *surname;
  guint weight;
} surnames[] = {
  { "王", 72 }, { "李", 72 }, { "张", 69 }, { "刘", 54 }, { "陈", 45 }, { "杨", 31 }, { "赵", 28 }, { "黄", 25 },
  { "周", 22 }, { "吴", 21 }, { "徐", 17 }, { "孙", 16 }, { "胡", 14 }, { "朱", 14 }, { "高", 14 }, { "林", 12 },
  { "何", 12 }, { "郭", 12 }, { "马", 12 }, { "罗", 10 }, { "梁", 9 }, { "宋", 8 }, { "郑", 8 }, { "谢", 7 },
  { "韩", 7 }, { "唐", 6 }, { "冯", 6 }, { "于", 6 }, { "董", 6 }, { "萧", 5 }, { "程", 5 }, { "曹", 5 },
  { "袁", 5 }, { "邓", 5 }, { "许", 5 }, { "傅", 4 }, { "沈", 4 }, { "曾", 4 }, { "彭", 4 }, { "吕", 4 },
  { "苏", 4 }, { "卢", 4 }, { "蒋", 4 }, { "蔡", 4 }, { "贾", 3 }, { "丁", 3 }, { "魏", 3 }, { "薛", 3 },
  { "叶", 3 }, { "阎", 3 }, { "白", 4 }, { "包", 4 }, { "宝", 2 }, { "欧阳", 1 }, { "司马", 1 },
};

/* Given-name characters usual for men and for women. */
static const char *const given_male[] = {
  "伟", "强", "军", "磊", "勇", "杰", "涛", "明", "超", "刚", "平", "辉", "建", "国", "文", "海", "志", "成",
  "龙", "德", "宏", "永", "庆", "俊", "波", "斌", "亮", "鹏", "飞", "东", "浩", "宇", "鑫", "福", "生", "宝",
  "金", "林", "春", "新", "晓", "华", "荣", "山", "忠", "贵", "满", "喜", "旺", "财",
};
static const char *const given_female[] = {
  "芳", "娜", "秀", "英", "敏", "静", "丽", "艳", "娟", "霞", "兰", "桂", "玉", "红", "梅", "凤", "云", "萍",
  "燕", "琴", "丹", "雪", "慧", "佳", "婷", "春", "华", "晓", "小", "玲", "莉", "翠", "淑", "珍", "荣", "香",
  "芬", "杰", "月", "琳",
};
/* Mongolian names written in Chinese, usually without a surname (the
 * banner is Mongol). */
static const char *const mongolian_male[] = { "巴特尔", "苏和", "那日苏", "额尔敦", "宝音", "朝鲁", "巴图", "孟和" };
static const char *const mongolian_female[] = { "其木格", "乌云", "斯琴", "图雅", "萨仁", "娜仁", "高娃", "琪琪格" };

static const char *const group_numbers[] = { "一", "二", "三", "四", "五", "六", "七", "八" };
static const char *const phone_prefixes[] = {
  "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152", "155", "156",
  "157", "158", "159", "177", "180", "181", "182", "183", "185", "187", "189", "198", "199",
};

/* Household sizes 1..7 in tenths of a percent: 4.0 members on average. */
static const guint size_weights[] = { 45, 130, 205, 250, 190, 115, 65 };
/* The same, 5.0 on average: the village of the sync benchmark (issue 5:
 * 500 households, 2,500 members). */
static const guint larger_size_weights[] = { 5, 25, 100, 230, 270, 205, 165 };
G_STATIC_ASSERT (G_N_ELEMENTS (size_weights) == G_N_ELEMENTS (larger_size_weights));

struct _HearthDemoGenerator {
  GRand *rand;
  char county[7];
  gboolean real;                /* the table's county */
  GDate reference;
  guint *village_next;          /* per village, the next household number */
  guint village_total_weight;
  guint surname_total_weight;
  GHashTable *taken;            /* ID numbers given, as (birthplace, date, order) */
  const guint *size_weights;    /* size_weights or larger_size_weights */
};

typedef struct {
  const char *relation;
  gboolean male;
  guint age;
  char *name;
} Member;

const char *
hearth_demo_registry_header (void)
{
  return "户编号,行政区划代码,住址,监测对象类别,联系电话,姓名,身份证号,性别,出生日期,与户主关系,健康状况,劳动技能,在校生状况,"
         "参加医疗保险,人均纯收入\r\n";
}

const char *const *
hearth_demo_villages (void)
{
  return village_codes;
}

HearthDemoGenerator *
hearth_demo_generator_new (guint32 seed, const char *county, GError **error)
{
  HearthDemoGenerator *self;

  if (county == NULL)
    county = HEARTH_DEMO_DEFAULT_COUNTY;
  if (strlen (county) != 6 || strspn (county, "0123456789") != 6 || county[0] == '0')
    {
      g_set_error (error, HEARTH_DEMO_ERROR, HEARTH_DEMO_ERROR_INVALID,
                   _("A county code is 6 digits (GB/T 2260), not \"%s\"."), county);
      return NULL;
    }
  self = g_new0 (HearthDemoGenerator, 1);
  self->rand = g_rand_new_with_seed (seed);
  memcpy (self->county, county, 7);
  self->real = strcmp (county, HEARTH_DEMO_DEFAULT_COUNTY) == 0;
  g_date_clear (&self->reference, 1);
  g_date_set_parse (&self->reference, HEARTH_DEMO_REFERENCE_DATE);
  g_assert (g_date_valid (&self->reference));
  self->village_next = g_new0 (guint, G_N_ELEMENTS (villages));
  for (gsize i = 0; i < G_N_ELEMENTS (villages); i++)
    self->village_total_weight += villages[i].weight;
  for (gsize i = 0; i < G_N_ELEMENTS (surnames); i++)
    self->surname_total_weight += surnames[i].weight;
  self->taken = g_hash_table_new (g_direct_hash, g_direct_equal);
  self->size_weights = size_weights;
  return self;
}

void
hearth_demo_generator_set_larger (HearthDemoGenerator *self, gboolean larger)
{
  g_return_if_fail (self != NULL);
  self->size_weights = larger ? larger_size_weights : size_weights;
}

void
hearth_demo_generator_free (HearthDemoGenerator *self)
{
  if (self == NULL)
    return;
  g_rand_free (self->rand);
  g_free (self->village_next);
  g_hash_table_unref (self->taken);
  g_free (self);
}

static guint
draw (HearthDemoGenerator *self, guint n)
{
  return (guint) g_rand_int_range (self->rand, 0, (gint32) n);
}

/* TRUE with probability @percent / 100. */
static gboolean
chance (HearthDemoGenerator *self, guint percent)
{
  return draw (self, 100) < percent;
}

static guint
between (HearthDemoGenerator *self, guint lo, guint hi)
{
  return lo + draw (self, hi - lo + 1);
}

static const char *
draw_surname (HearthDemoGenerator *self)
{
  guint w = draw (self, self->surname_total_weight);

  for (gsize i = 0; i < G_N_ELEMENTS (surnames); i++)
    {
      if (w < surnames[i].weight)
        return surnames[i].surname;
      w -= surnames[i].weight;
    }
  g_assert_not_reached ();
}

static char *
draw_name (HearthDemoGenerator *self, const char *surname, gboolean male, gboolean mongolian)
{
  const char *const *chars = male ? given_male : given_female;
  gsize n = male ? G_N_ELEMENTS (given_male) : G_N_ELEMENTS (given_female);
  GString *s;

  if (mongolian)
    return g_strdup (male ? mongolian_male[draw (self, G_N_ELEMENTS (mongolian_male))]
                          : mongolian_female[draw (self, G_N_ELEMENTS (mongolian_female))]);
  s = g_string_new (surname);
  g_string_append (s, chars[draw (self, (guint) n)]);
  if (chance (self, 75))
    g_string_append (s, chars[draw (self, (guint) n)]);
  return g_string_free (s, FALSE);
}

/* A valid GB 11643 number for someone @age years old at the reference
 * date, born in @birthplace (index: 0 the county, 1.. a neighbour). */
static char *
draw_id_number (HearthDemoGenerator *self, guint age, gboolean male, guint birthplace)
{
  static const int weights[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
  const char *place = birthplace == 0 ? self->county : neighbour_counties[birthplace - 1];
  GDate earliest, latest, born, epoch;
  char id[19];
  guint span, order, day;
  int sum = 0;

  /* Born after the reference date's day (age + 1) years earlier, up to
   * that day @age years earlier. */
  latest = self->reference;
  g_date_subtract_years (&latest, age);
  earliest = self->reference;
  g_date_subtract_years (&earliest, age + 1);
  g_date_add_days (&earliest, 1);
  span = g_date_days_between (&earliest, &latest) + 1;
  g_date_clear (&epoch, 1);
  g_date_set_dmy (&epoch, 1, G_DATE_JANUARY, 1900);
  for (;;)
    {
      gpointer key;

      born = earliest;
      g_date_add_days (&born, draw (self, span));
      /* Odd order codes for men, even for women; 000 is not given. */
      order = draw (self, 500) * 2 + (male ? 1 : 0);
      if (order == 0)
        continue;
      day = (guint) g_date_days_between (&epoch, &born);
      key = GUINT_TO_POINTER ((birthplace << 26) | (day << 10) | order);
      if (g_hash_table_add (self->taken, key))
        break;
    }
  g_snprintf (id, sizeof id, "%s%04u%02u%02u%03u", place, g_date_get_year (&born), g_date_get_month (&born),
              g_date_get_day (&born), order);
  for (int i = 0; i < 17; i++)
    sum += (id[i] - '0') * weights[i];
  id[17] = "10X98765432"[sum % 11];
  id[18] = '\0';
  return g_strdup (id);
}

static const char *
draw_health (HearthDemoGenerator *self, guint age)
{
  guint r = draw (self, 1000);

  if (r < 25)
    return "disabled";
  if (r < 25 + (age >= 50 ? 50 : 15))
    return "serious";
  if (r < 100 + (age >= 60 ? 330 : age >= 40 ? 120 : 20))
    return "chronic";
  return "healthy";
}

static const char *
draw_labour (HearthDemoGenerator *self, guint age, const char *health)
{
  guint r = draw (self, 100);

  if (age < 16)
    return "none";
  if (g_str_equal (health, "disabled") || g_str_equal (health, "serious"))
    return r < 70 ? "lost" : "weak";
  if (age >= 75)
    return r < 60 ? "none" : "lost";
  if (age >= 60)
    return r < 45 ? "weak" : r < 80 ? "ordinary" : "none";
  if (age < 22)
    return r < 60 ? "none" : "ordinary";
  return r < 68 ? "ordinary" : r < 85 ? "skilled" : r < 96 ? "weak" : "lost";
}

static const char *
draw_school (HearthDemoGenerator *self, guint age)
{
  if (age < 3)
    return "not_student";
  if (age < 6)
    return chance (self, 80) ? "preschool" : "not_student";
  if (age < 12)
    return "primary";
  if (age < 15)
    return chance (self, 98) ? "junior" : "dropout";
  if (age < 18)
    return chance (self, 70) ? "senior" : chance (self, 70) ? "vocational" : "not_student";
  if (age < 22)
    return chance (self, 35) ? "higher" : chance (self, 20) ? "vocational" : "not_student";
  return "not_student";
}

static void
csv_field (GString *csv, const char *value, gboolean last)
{
  if (strpbrk (value, ",\"\r\n") != NULL)
    {
      g_string_append_c (csv, '"');
      for (const char *p = value; *p; p++)
        {
          if (*p == '"')
            g_string_append_c (csv, '"');
          g_string_append_c (csv, *p);
        }
      g_string_append_c (csv, '"');
    }
  else
    g_string_append (csv, value);
  g_string_append (csv, last ? "\r\n" : ",");
}

static void
add_member (GPtrArray *members, const char *relation, gboolean male, guint age, char *name)
{
  Member *m = g_new0 (Member, 1);

  m->relation = relation;
  m->male = male;
  m->age = age;
  m->name = name;
  g_ptr_array_add (members, m);
}

static void
member_free (gpointer data)
{
  Member *m = data;

  g_free (m->name);
  g_free (m);
}

guint
hearth_demo_generator_next (HearthDemoGenerator *self, GString *csv)
{
  g_autoptr(GPtrArray) members = g_ptr_array_new_with_free_func (member_free);
  g_autofree char *household_no = NULL;
  g_autofree char *village_code = NULL;
  g_autofree char *address = NULL;
  g_autofree char *phone = NULL;
  g_autofree char *income = NULL;
  const char *category, *family_name, *children_name;
  gboolean mongolian, head_male, spouse;
  guint size = 1, head_age, v = 0, w, room, children, grandchildren, parents, siblings = 0;

  /* Where and how large. */
  w = draw (self, self->village_total_weight);
  while (w >= villages[v].weight)
    w -= villages[v++].weight;
  w = draw (self, 1000);
  for (size = 1; size < G_N_ELEMENTS (size_weights) && w >= self->size_weights[size - 1]; size++)
    w -= self->size_weights[size - 1];
  head_age = size >= 5 ? between (self, 42, 75) : size == 1 ? between (self, 45, 75) : between (self, 30, 75);
  head_male = chance (self, 85);
  mongolian = chance (self, 6);
  family_name = draw_surname (self);
  category = (const char *const[]) { "", "", "", "", "", "", "", "0", "0", "1", "2", "" }[draw (self, 12)];

  /* Who: the head, a spouse, the head's parents, children, grandchildren. */
  add_member (members, "01", head_male, head_age, draw_name (self, family_name, head_male, mongolian));
  /* Children take the father's family name. */
  children_name = family_name;
  room = size - 1;
  spouse = room > 0 && chance (self, size == 2 ? 75 : 90);
  if (spouse)
    {
      /* A wife a few years younger than her husband, give or take one. */
      guint age = CLAMP ((int) head_age + (head_male ? -1 : 1) * (int) between (self, 0, 5) - 1 + (int) draw (self, 3),
                         22, 90);
      const char *spouse_name = draw_surname (self);

      if (!head_male)
        children_name = spouse_name;
      add_member (members, "10", !head_male, age, draw_name (self, spouse_name, !head_male, mongolian));
      room--;
    }
  parents = 0;
  if (room == 1 && !spouse && chance (self, 30))
    siblings = 1;  /* a head living with a brother or sister */
  else if (room > 0 && head_age <= 60 && chance (self, size >= 4 ? 35 : 20))
    parents = room >= 3 && chance (self, 40) ? 2 : 1;
  grandchildren = 0;
  if (head_age >= 48 && room - parents >= 2 && chance (self, 60))
    grandchildren = between (self, 1, MIN (2, room - parents - 1));
  children = room - parents - grandchildren - siblings;
  for (guint i = 0; i < parents; i++)
    {
      gboolean father = parents == 2 ? i == 0 : chance (self, 40);
      guint age = MIN (head_age + between (self, 20, 34), 98);

      add_member (members, "50", father, age,
                  draw_name (self, father ? family_name : draw_surname (self), father, mongolian));
    }
  for (guint i = 0; i < children; i++)
    {
      gboolean son = chance (self, 52);
      /* Children of a parent 20 to 40 years older; none older than 50. */
      guint oldest = MIN (head_age - 20, 50), youngest = head_age > 40 ? head_age - 40 : 0;
      guint age = between (self, MIN (youngest, oldest), oldest);

      add_member (members, son ? "20" : "30", son, age, draw_name (self, children_name, son, mongolian));
    }
  for (guint i = 0; i < grandchildren; i++)
    {
      gboolean male = chance (self, 52);

      add_member (members, "40", male, between (self, 0, MIN (head_age - 45, 20)),
                  draw_name (self, children_name, male, mongolian));
    }
  if (siblings > 0)
    {
      gboolean male = chance (self, 50);

      add_member (members, "70", male, CLAMP ((int) head_age + (int) between (self, 0, 12) - 6, 25, 90),
                  draw_name (self, family_name, male, mongolian));
    }

  /* The registry number: the village code and a number in the village. */
  village_code = g_strconcat (self->county, villages[v].code + 6, NULL);
  household_no = g_strdup_printf ("%s%05u", village_code, ++self->village_next[v]);
  address = g_strdup_printf ("%s%s组 %u 号", villages[v].name, group_numbers[draw (self, G_N_ELEMENTS (group_numbers))],
                             between (self, 1, 160));
  if (chance (self, 65))
    phone = g_strdup_printf ("%s%04u%04u", phone_prefixes[draw (self, G_N_ELEMENTS (phone_prefixes))],
                             draw (self, 10000), draw (self, 10000));
  {
    /* Yuan per person and year: monitored categories lower. */
    guint lo = category[0] == '\0' ? 8000 : category[0] == '2' ? 3000 : 5500;
    guint hi = category[0] == '\0' ? 36000 : category[0] == '2' ? 9000 : 12000;

    income = g_strdup_printf ("%u", between (self, lo, hi));
  }

  for (guint i = 0; i < members->len; i++)
    {
      Member *m = members->pdata[i];
      g_autofree char *id = draw_id_number (self, m->age, m->male,
                                            self->real && g_str_equal (m->relation, "10") && chance (self, 15)
                                            ? 1 + draw (self, G_N_ELEMENTS (neighbour_counties)) : 0);
      const char *health = draw_health (self, m->age);
      const char *labour = draw_labour (self, m->age, health);
      const char *school = draw_school (self, m->age);

      csv_field (csv, household_no, FALSE);
      csv_field (csv, village_code, FALSE);
      csv_field (csv, address, FALSE);
      csv_field (csv, category, FALSE);
      csv_field (csv, phone != NULL ? phone : "", FALSE);
      csv_field (csv, m->name, FALSE);
      csv_field (csv, id, FALSE);
      csv_field (csv, m->male ? "男" : "女", FALSE);
      {
        char born[11];

        g_snprintf (born, sizeof born, "%.4s-%.2s-%.2s", id + 6, id + 10, id + 12);
        csv_field (csv, born, FALSE);
      }
      csv_field (csv, m->relation, FALSE);
      csv_field (csv, health, FALSE);
      csv_field (csv, labour, FALSE);
      csv_field (csv, school, FALSE);
      csv_field (csv, chance (self, 96) ? "yes" : "no", FALSE);
      csv_field (csv, income, TRUE);
    }
  return members->len;
}

gboolean
hearth_demo_write_registry (const char *path, guint households, guint32 seed, const char *county, guint *members,
                            GError **error)
{
  g_autoptr(HearthDemoGenerator) gen = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GFileOutputStream) out = NULL;
  g_autoptr(GString) csv = g_string_new ("\xef\xbb\xbf");
  guint rows = 0;

  g_return_val_if_fail (path != NULL, FALSE);
  if (members != NULL)
    *members = 0;
  if (households < 1 || households > HEARTH_DEMO_MAX_HOUSEHOLDS)
    {
      g_set_error (error, HEARTH_DEMO_ERROR, HEARTH_DEMO_ERROR_INVALID,
                   _("The number of households is from 1 to %d."), HEARTH_DEMO_MAX_HOUSEHOLDS);
      return FALSE;
    }
  gen = hearth_demo_generator_new (seed, county, error);
  if (gen == NULL)
    return FALSE;
  file = g_file_new_for_path (path);
  /* Written beside and renamed over: never half a file. */
  out = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_REPLACE_DESTINATION, NULL, error);
  if (out == NULL)
    return FALSE;
  g_string_append (csv, hearth_demo_registry_header ());
  for (guint i = 0; i < households; i++)
    {
      rows += hearth_demo_generator_next (gen, csv);
      if (csv->len >= 1 << 20 || i + 1 == households)
        {
          if (!g_output_stream_write_all (G_OUTPUT_STREAM (out), csv->str, csv->len, NULL, NULL, error))
            return FALSE;
          g_string_truncate (csv, 0);
        }
    }
  if (!g_output_stream_close (G_OUTPUT_STREAM (out), NULL, error))
    return FALSE;
  if (members != NULL)
    *members = rows;
  return TRUE;
}

gboolean
hearth_demo_write_divisions (const char *path, const char *county, guint *n_out, GError **error)
{
  g_autoptr(GString) csv = g_string_new ("\xef\xbb\xbf" "code,name\n");
  guint n = 0;

  g_return_val_if_fail (path != NULL, FALSE);
  if (n_out != NULL)
    *n_out = 0;
  if (county == NULL)
    county = HEARTH_DEMO_DEFAULT_COUNTY;
  if (strlen (county) != 6 || strspn (county, "0123456789") != 6 || county[0] == '0')
    {
      g_set_error (error, HEARTH_DEMO_ERROR, HEARTH_DEMO_ERROR_INVALID,
                   _("A county code is 6 digits (GB/T 2260), not \"%s\"."), county);
      return FALSE;
    }
  /* The generator moves the table's villages into another county by
   * their last 6 digits; their names go with them, the county's own does
   * not. */
  if (strcmp (county, HEARTH_DEMO_DEFAULT_COUNTY) == 0)
    {
      g_string_append (csv, HEARTH_DEMO_DEFAULT_COUNTY ",巴林左旗\n");
      n++;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (townships); i++, n++)
    g_string_append_printf (csv, "%s%s,%s\n", county, townships[i].code + 6, townships[i].name);
  for (gsize i = 0; i < G_N_ELEMENTS (villages); i++, n++)
    g_string_append_printf (csv, "%s%s,%s\n", county, villages[i].code + 6, villages[i].name);
  /* Written beside and renamed over: never half a file. */
  if (!g_file_set_contents (path, csv->str, (gssize) csv->len, error))
    return FALSE;
  if (n_out != NULL)
    *n_out = n;
  return TRUE;
}
