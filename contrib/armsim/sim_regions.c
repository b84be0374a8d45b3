/* sim_regions.c - the physical Azure regions armsim knows: short name,
 * display name, geography group, coordinates and paired region, as the
 * Microsoft.Resources locations API reports them. */
#include "sim.h"

#include <string.h>
#include <strings.h>

static const struct sim_region regions[] = {
    {"eastus", "East US", "US", "37.3719", "-79.8164", "Virginia", "westus"},
    {"eastus2", "East US 2", "US", "36.6681", "-78.3889", "Virginia", "centralus"},
    {"southcentralus", "South Central US", "US", "29.4167", "-98.5", "Texas", "northcentralus"},
    {"westus2", "West US 2", "US", "47.233", "-119.852", "Washington", "westcentralus"},
    {"westus3", "West US 3", "US", "33.448376", "-112.074036", "Phoenix", "eastus"},
    {"australiaeast", "Australia East", "Asia Pacific", "-33.86", "151.2094", "New South Wales",
     "australiasoutheast"},
    {"southeastasia", "Southeast Asia", "Asia Pacific", "1.283", "103.833", "Singapore",
     "eastasia"},
    {"northeurope", "North Europe", "Europe", "53.3478", "-6.2597", "Ireland", "westeurope"},
    {"swedencentral", "Sweden Central", "Europe", "60.67488", "17.14127", "Gävle", "swedensouth"},
    {"uksouth", "UK South", "Europe", "50.941", "-0.799", "London", "ukwest"},
    {"westeurope", "West Europe", "Europe", "52.3667", "4.9", "Netherlands", "northeurope"},
    {"centralus", "Central US", "US", "41.5908", "-93.6208", "Iowa", "eastus2"},
    {"southafricanorth", "South Africa North", "Africa", "-25.73134", "28.21837", "Johannesburg",
     "southafricawest"},
    {"centralindia", "Central India", "Asia Pacific", "18.5822", "73.9197", "Pune", "southindia"},
    {"eastasia", "East Asia", "Asia Pacific", "22.267", "114.188", "Hong Kong", "southeastasia"},
    {"japaneast", "Japan East", "Asia Pacific", "35.68", "139.77", "Tokyo, Saitama", "japanwest"},
    {"koreacentral", "Korea Central", "Asia Pacific", "37.5665", "126.978", "Seoul", "koreasouth"},
    {"canadacentral", "Canada Central", "Canada", "43.653", "-79.383", "Toronto", "canadaeast"},
    {"francecentral", "France Central", "Europe", "46.3772", "2.373", "Paris", "francesouth"},
    {"germanywestcentral", "Germany West Central", "Europe", "50.110924", "8.682127", "Frankfurt",
     "germanynorth"},
    {"italynorth", "Italy North", "Europe", "45.46888", "9.18109", "Milan", ""},
    {"norwayeast", "Norway East", "Europe", "59.913868", "10.752245", "Norway", "norwaywest"},
    {"polandcentral", "Poland Central", "Europe", "52.23334", "21.01666", "Warsaw", ""},
    {"switzerlandnorth", "Switzerland North", "Europe", "47.451542", "8.564572", "Zurich",
     "switzerlandwest"},
    {"uaenorth", "UAE North", "Middle East", "25.266666", "55.316666", "Dubai", "uaecentral"},
    {"brazilsouth", "Brazil South", "South America", "-23.55", "-46.633", "Sao Paulo State",
     "southcentralus"},
    {"israelcentral", "Israel Central", "Middle East", "31.2655698", "33.4506633", "Israel", ""},
    {"qatarcentral", "Qatar Central", "Middle East", "25.551462", "51.439327", "Doha", ""},
    {"northcentralus", "North Central US", "US", "41.8819", "-87.6278", "Illinois",
     "southcentralus"},
    {"westus", "West US", "US", "37.783", "-122.417", "California", "eastus"},
    {"westcentralus", "West Central US", "US", "40.89", "-110.234", "Wyoming", "westus2"},
    {"japanwest", "Japan West", "Asia Pacific", "34.6939", "135.5022", "Osaka", "japaneast"},
    {"australiasoutheast", "Australia Southeast", "Asia Pacific", "-37.8136", "144.9631",
     "Victoria", "australiaeast"},
    {"southindia", "South India", "Asia Pacific", "12.9822", "80.1636", "Chennai", "centralindia"},
    {"ukwest", "UK West", "Europe", "53.427", "-3.084", "Cardiff", "uksouth"},
    {"canadaeast", "Canada East", "Canada", "46.817", "-71.217", "Quebec", "canadacentral"},
    {"koreasouth", "Korea South", "Asia Pacific", "35.1796", "129.0756", "Busan", "koreacentral"},
    {"francesouth", "France South", "Europe", "43.8345", "2.1972", "Marseille", "francecentral"},
    {"mexicocentral", "Mexico Central", "Mexico", "20.588818", "-100.389888", "Querétaro State",
     ""},
    {"spaincentral", "Spain Central", "Europe", "40.4259", "-3.4209", "Madrid", ""},
};

/* The region with this short name (case-insensitive), or NULL. */
const struct sim_region *sim_region_find(const char *name)
{
	for (size_t i = 0; i < sizeof regions / sizeof regions[0]; i++)
		if (name && !strcasecmp(regions[i].name, name))
			return &regions[i];
	return NULL;
}

/* The i-th known region (for the demo's location list). */
const struct sim_region *sim_region_at(int i)
{
	if (i < 0 || i >= sim_region_count())
		return NULL;
	return &regions[i];
}

/* How many regions are known. */
int sim_region_count(void)
{
	return (int)(sizeof regions / sizeof regions[0]);
}
