#include "service/qido_attributes.h"

#include <algorithm>
#include <cstdio>

#include "common/dicom_keywords.h"
#include "common/dicom_tag.h"

namespace dicomstore::service {
namespace {

std::vector<uint32_t> Union(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  std::vector<uint32_t> out = a;
  out.insert(out.end(), b.begin(), b.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

std::string TagKey(uint32_t tag) { return HexTag(tag); }

std::optional<uint32_t> KnownAttribute(std::string_view keyword_or_tag) {
  if (std::optional<uint32_t> tag = ParseHexTag(keyword_or_tag)) return tag;
  return KnownKeywordTag(keyword_or_tag);
}

namespace {

// Every attribute set of one search level, built once.
struct LevelSets {
  std::vector<uint32_t> defaults, extended, match_keys, computed, stored;
};

std::vector<LevelSets> BuildLevelSets() {
  std::vector<LevelSets> sets(3);
  LevelSets& study = sets[static_cast<int>(QidoLevel::kStudy)];
  LevelSets& series = sets[static_cast<int>(QidoLevel::kSeries)];
  LevelSets& instance = sets[static_cast<int>(QidoLevel::kInstance)];

  study.defaults = {0x00080005, 0x00080020, 0x00080030, 0x00080050, 0x00080056,
                    0x00080090, 0x00080201, 0x00100010, 0x00100020, 0x00100030,
                    0x00100040, 0x0020000D, 0x00200010};
  // StudyInstanceUID is added to lower levels so a result always names its parents.
  series.defaults = {0x00080005, 0x00080060, 0x00080201, 0x0008103E, 0x0020000D,
                     0x0020000E, 0x00400244, 0x00400245, 0x00400275};
  instance.defaults = {0x00080005, 0x00080016, 0x00080018, 0x00080056, 0x00080201, 0x0020000D,
                       0x0020000E, 0x00200013, 0x00280008, 0x00280010, 0x00280011, 0x00280100};

  study.extended = {0x00401101, 0x00401102, 0x00401103, 0x00401104, 0x00080080, 0x00080081,
                    0x00080082, 0x00080096, 0x0008009C, 0x0008009D, 0x00080051, 0x00400031,
                    0x00400032, 0x00400033, 0x00081030, 0x00081048, 0x00081049, 0x00081060,
                    0x00081062, 0x00321034, 0x00081110, 0x00081032, 0x00401012};
  series.extended = {0x00200011, 0x00200060, 0x00080021, 0x00080031};

  // Google's study keys; series and instance searches inherit these. ModalitiesInStudy is
  // ours in addition (study level only): worklists filter on it, and Google's 400 for it
  // pushes viewers into fetching every series.
  const std::vector<uint32_t> study_keys = {0x0020000D, 0x00100010, 0x00100020,
                                            0x00080050, 0x00080090, 0x00080020};
  study.match_keys = Union(study_keys, {tags::kModalitiesInStudy});
  series.match_keys = Union(study_keys, {0x0020000E, 0x00080060});
  instance.match_keys = Union(series.match_keys, {0x00080018});

  study.computed = {tags::kModalitiesInStudy, tags::kNumberOfStudyRelatedSeries,
                    tags::kNumberOfStudyRelatedInstances};
  series.computed = {tags::kNumberOfSeriesRelatedInstances};

  for (LevelSets& level : sets) level.stored = Union(level.defaults, level.extended);
  return sets;
}

const LevelSets& SetsOf(QidoLevel level) {
  static const std::vector<LevelSets> kSets = BuildLevelSets();
  return kSets[static_cast<int>(level)];
}

}  // namespace

const std::vector<uint32_t>& DefaultAttributes(QidoLevel level) { return SetsOf(level).defaults; }
const std::vector<uint32_t>& ExtendedAttributes(QidoLevel level) { return SetsOf(level).extended; }
const std::vector<uint32_t>& MatchKeys(QidoLevel level) { return SetsOf(level).match_keys; }
const std::vector<uint32_t>& ComputedAttributes(QidoLevel level) { return SetsOf(level).computed; }
const std::vector<uint32_t>& StoredLevelAttributes(QidoLevel level) { return SetsOf(level).stored; }

}  // namespace dicomstore::service
